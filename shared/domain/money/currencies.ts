/**
 * Active ISO 4217 currency codes and their minor-unit exponents (list of 2026: BGN, HRK, SLL, CUC,
 * ZWL and ANG withdrawn; XCG and ZWG added). Hand-kept because `Intl` reports CLDR display
 * digits, which differ from ISO 4217 for several currencies (IQD, LBP, MGA...), and money must
 * follow ISO. Precious metals, test and "no currency" codes (XAU, XTS, XXX...) are not money we
 * collect, so they are absent on purpose.
 */
const EXPONENT_0 = 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF';
const EXPONENT_3 = 'BHD IQD JOD KWD LYD OMR TND';
const EXPONENT_4 = 'CLF UYW';
const EXPONENT_2 = [
  'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD',
  'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP',
  'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK',
  'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO',
  'NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS',
  'SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST',
  'XCD XCG YER ZAR ZMW ZWG',
].join(' ');

const table = new Map<string, number>();
for (const [codes, exponent] of [
  [EXPONENT_0, 0],
  [EXPONENT_2, 2],
  [EXPONENT_3, 3],
  [EXPONENT_4, 4],
] as const) {
  for (const code of codes.split(' ')) table.set(code, exponent);
}

export const isActiveCurrency = (code: string): boolean => table.has(code);

/** Number of decimals of the currency's minor unit (JPY 0, USD 2, KWD 3). */
export const currencyExponent = (code: string): number => {
  const exponent = table.get(code);
  if (exponent === undefined) throw new RangeError(`not an active ISO 4217 currency: ${code}`);
  return exponent;
};

export const activeCurrencies = (): string[] => [...table.keys()].sort();
