/**
 * Dates and timestamps in the forms UK files use. Formats follow strftime (`%d/%m/%Y`), the notation Table Schema uses
 * for `format`. Slash and dash dates are read day first, so `05/04/2025` is 5 April 2025. Month-first is tried only
 * after every day-first format has failed on some value of the column.
 */

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, sept: 9, oct: 10, nov: 11, dec: 12,
  january: 1, february: 2, march: 3, april: 4, june: 6, july: 7, august: 8, september: 9, october: 10,
  november: 11, december: 12,
};

/** Formats tried on every value of a column, in order of preference. */
export const DATE_FORMATS = [
  '%Y-%m-%d',
  '%d/%m/%Y',
  '%d/%m/%y',
  '%d-%m-%Y',
  '%d.%m.%Y',
  '%d-%b-%Y',
  '%d-%b-%y',
  '%d %b %Y',
  '%d %B %Y',
  '%Y/%m/%d',
  '%Y.%m.%d',
  '%y-%m-%d',
  // Spreadsheets export a date cell as a timestamp at midnight. A column whose every time is midnight contains dates, and
  // typing it as a timestamp would move each day to 23:00 UTC the day before for half of the year.
  '%Y-%m-%d 00:00:00',
  '%Y-%m-%dT00:00:00',
  '%Y-%m-%d 00:00',
  '%Y-%m-%dT00:00',
  '%d/%m/%Y 00:00:00',
  '%d/%m/%Y 00:00',
  '%m/%d/%Y',
] as const;

export const DATETIME_FORMATS = ['default', '%d/%m/%Y %H:%M:%S'] as const;

const TOKEN_PATTERNS: Record<string, string> = {
  '%d': '(\\d{1,2})',
  '%m': '(\\d{1,2})',
  '%Y': '(\\d{4})',
  '%y': '(\\d{2})',
  '%b': '([A-Za-z]{3,4})',
  '%B': '([A-Za-z]{3,9})',
};

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

/** Expands a two-digit year as Python's strptime does: 69–99 are 1900s, 00–68 are 2000s. */
function fullYear(twoDigits: number): number {
  return twoDigits >= 69 ? 1900 + twoDigits : 2000 + twoDigits;
}

export function isoDate(year: number, month: number, day: number): string | null {
  if (month < 1 || month > 12 || day < 1 || year < 1 || day > daysInMonth(year, month)) return null;
  return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}`;
}

export type DateParser = (text: string) => string | null;

/** Compiles a strftime date format into a parser that returns ISO `YYYY-MM-DD` or null. */
export function compileDateFormat(format: string): DateParser | null {
  const order: string[] = [];
  let source = '^';
  for (let i = 0; i < format.length; i++) {
    const token = format.slice(i, i + 2);
    const pattern = TOKEN_PATTERNS[token];
    if (pattern) {
      order.push(token);
      source += pattern;
      i++;
    } else if (format[i] === '%') {
      return null;
    } else {
      source += format[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  const regex = new RegExp(source + '$');
  return (text: string) => {
    const match = regex.exec(text);
    if (match === null) return null;
    let year = 0;
    let month = 0;
    let day = 0;
    for (let k = 0; k < order.length; k++) {
      const part = match[k + 1]!;
      switch (order[k]) {
        case '%d': day = Number(part); break;
        case '%m': month = Number(part); break;
        case '%Y': year = Number(part); break;
        case '%y': year = fullYear(Number(part)); break;
        default: month = MONTHS[part.toLowerCase()] ?? 0;
      }
    }
    return isoDate(year, month, day);
  };
}

const ISO_DATETIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/;
const UK_DATETIME = /^(\d{1,2})\/(\d{1,2})\/(\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;

/** Time zone offsets of Europe/London, cached per hour of local time. */
const londonOffsetCache = new Map<number, string>();
const londonFormatter = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'longOffset' });

function londonOffsetAt(utcMillis: number): string {
  const name = londonFormatter.formatToParts(utcMillis).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  return name === 'GMT' ? '+00:00' : name.slice(3);
}

/**
 * Returns the UTC offset of a local Europe/London wall-clock time. In the autumn hour that happens twice the first
 * (summer time) reading wins; a time in the skipped spring hour gets the winter offset.
 */
export function londonOffset(year: number, month: number, day: number, hour: number, minute: number): string {
  const localMillis = Date.UTC(year, month - 1, day, hour, minute);
  const key = Math.floor(localMillis / 3_600_000);
  const cached = londonOffsetCache.get(key);
  if (cached !== undefined) return cached;
  const summer = londonOffsetAt(localMillis - 3_600_000);
  const offset = summer === '+01:00' ? summer : '+00:00';
  if (londonOffsetCache.size > 100_000) londonOffsetCache.clear();
  londonOffsetCache.set(key, offset);
  return offset;
}

function normaliseZone(zone: string): string {
  if (zone === 'Z') return '+00:00';
  if (zone.length === 3) return `${zone}:00`;
  if (zone.length === 5) return `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return zone;
}

function timestamp(
  year: number, month: number, day: number, hour: number, minute: number, second: number, fraction: string, zone: string | undefined,
): string | null {
  const date = isoDate(year, month, day);
  if (date === null || hour > 23 || minute > 59 || second > 59) return null;
  const offset = zone === undefined ? londonOffset(year, month, day, hour, minute) : normaliseZone(zone);
  return `${date}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${offset}`;
}

/**
 * Compiles a datetime format into a parser returning an ISO instant with its offset, such as
 * `2025-04-03T10:15:00+01:00`. Times without a zone are Europe/London local time. `default` is ISO 8601 with `T` or
 * a space, seconds and zone optional; a bare ISO date counts as midnight.
 */
export function compileDatetimeFormat(format: string): DateParser | null {
  if (format === 'default' || format === 'any') {
    return (text) => {
      const m = ISO_DATETIME.exec(text);
      if (m === null) return null;
      return timestamp(+m[1]!, +m[2]!, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7] ?? '', m[8]);
    };
  }
  if (format === '%d/%m/%Y %H:%M:%S' || format === '%d/%m/%Y %H:%M') {
    return (text) => {
      const m = UK_DATETIME.exec(text);
      if (m === null) return null;
      return timestamp(+m[3]!, +m[2]!, +m[1]!, +m[4]!, +m[5]!, +(m[6] ?? 0), '', undefined);
    };
  }
  return null;
}
