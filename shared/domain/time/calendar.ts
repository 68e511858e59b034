/**
 * Calendar arithmetic on ISO dates and zoned wall-clock time, through Intl only (no date
 * library): Node ships full ICU, which knows every IANA zone and its DST rules.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();

const formatterFor = (timeZone: string): Intl.DateTimeFormat => {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
};

export interface WallClock {
  date: string;
  hour: number;
  minute: number;
}

/** The date and time a person in `timeZone` sees on their wall clock at `instant`. */
export const wallClock = (instant: Date, timeZone: string): WallClock => {
  const parts: Record<string, string> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) parts[part.type] = part.value;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    hour: Number(parts.hour),
    minute: Number(parts.minute),
  };
};

/** Today's date in a zone. */
export const dateIn = (instant: Date, timeZone: string): string => wallClock(instant, timeZone).date;

const DAY_MS = 86_400_000;

/** Whole days from `from` to `to` (ISO dates); negative when `to` is earlier. */
export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);

export const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/**
 * The first instant at or after `notBefore` whose wall-clock date in `timeZone` is `date` or
 * later: the start of that local day. Searched in 15-minute steps so DST gaps need no special case.
 */
export const startOfLocalDay = (date: string, timeZone: string, notBefore: Date): Date => {
  const probe = new Date(Math.max(notBefore.getTime(), Date.parse(`${date}T00:00:00Z`) - DAY_MS));
  const step = 15 * 60_000;
  probe.setUTCMinutes(Math.floor(probe.getUTCMinutes() / 15) * 15, 0, 0);
  for (let i = 0; i < 4 * 24 * 4; i += 1) {
    if (probe >= notBefore && wallClock(probe, timeZone).date >= date) return new Date(probe);
    probe.setTime(probe.getTime() + step);
  }
  return new Date(Date.parse(`${date}T00:00:00Z`));
};
