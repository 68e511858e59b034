/**
 * Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection"): `=`, `+`,
 * `-`, `@`, and tab or carriage return, which some spreadsheets skip before looking for them.
 */
const FORMULA_START = '=+-@\t\r';
const FORMULA_CODES = [...FORMULA_START].map((char) => char.charCodeAt(0));

/** True when a spreadsheet could read `value` as a formula. */
export const startsLikeFormula = (value: string): boolean =>
  value.length > 0 && isFormulaStart(value.charCodeAt(0));

/** True for the code of a character in {@link FORMULA_START}. */
export const isFormulaStart = (code: number): boolean => FORMULA_CODES.includes(code);

/**
 * Makes a value safe to put in a CSV a person opens in a spreadsheet: a value that starts like a
 * formula gets a leading single quote, which spreadsheets show as text and never evaluate. Use it
 * for everything Arrears writes back as CSV (quarantine files, exports).
 */
export const neutraliseForSpreadsheet = (value: string): string =>
  startsLikeFormula(value) ? `'${value}` : value;

/** One CSV field, neutralised and quoted when it holds the delimiter, a quote or a line break. */
export const spreadsheetCsvField = (value: string, delimiter = ','): string => {
  const safe = neutraliseForSpreadsheet(value);
  return safe.includes(delimiter) || /["\r\n]/.test(safe) || safe !== safe.trim()
    ? `"${safe.replaceAll('"', '""')}"`
    : safe;
};
