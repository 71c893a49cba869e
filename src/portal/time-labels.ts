/**
 * Reads dates and other periods written as text, as council files write them: ISO dates, UK day-first dates, months,
 * years, financial years and quarters. The portal uses them to accept filter dates and to draw periods in time order.
 */

const MONTHS = ['january', 'february', 'march', 'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december'];

/** Returns the month number (1 to 12) of an English month name or its abbreviation ("Apr", "Sept"), or null. */
function monthNumber(name: string): number | null {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.length < 3) return null;
  const index = MONTHS.findIndex((month) => month === lower || month.slice(0, 3) === lower || (lower === 'sept' && month === 'september'));
  return index === -1 ? null : index + 1;
}

/** Returns the date as ISO text (YYYY-MM-DD) when the year, month and day make a real calendar date, or null. */
function isoDate(year: number, month: number, day: number): string | null {
  if (year < 1 || month < 1 || month > 12 || day < 1) return null;
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC treats years 0 to 99 as 1900 to 1999, so the year is checked as well as the month and day.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return null;
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Parses a calendar date written as ISO (2025-04-29) or day first with a four-digit year (29/04/2025, 29-04-2025,
 * 29.04.2025, 29 April 2025, 29 Apr 2025, 29th April 2025). Returns ISO text, or null when the text is not a real date
 * in one of those forms. Two-digit years are rejected because their century is a guess.
 */
export function parseDate(text: string): string | null {
  const value = text.trim();
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (iso) return isoDate(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const numeric = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/.exec(value);
  if (numeric) return isoDate(Number(numeric[4]), Number(numeric[3]), Number(numeric[1]));
  const words = /^(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]+\.?),?\s+(\d{4})$/.exec(value);
  if (words) {
    const month = monthNumber(words[2]!);
    return month === null ? null : isoDate(Number(words[3]), month, Number(words[1]));
  }
  return null;
}

/** Days since 1970-01-01 of an ISO date. */
function dayNumber(iso: string): number {
  return Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
}

/** Returns the start year of a year or financial year: 2024, 2024/25, 2024-25, 2024/2025 or FY2024/25. */
function startYear(text: string): number | null {
  const single = /^(\d{4})$/.exec(text);
  if (single) return plausibleYear(Number(single[1]));
  const span = /^(?:FY\s*)?(\d{4})\s*[/-]\s*(\d{2}|\d{4})$/i.exec(text);
  if (!span) return null;
  const start = plausibleYear(Number(span[1]));
  const end = Number(span[2]);
  if (start === null) return null;
  const follows = span[2]!.length === 2 ? end === (start + 1) % 100 : end === start + 1;
  return follows ? start : null;
}

/** Keeps years from 1800 to 2199, so that four-digit codes such as 5701 are not read as years. */
function plausibleYear(year: number): number | null {
  return year >= 1800 && year <= 2199 ? year : null;
}

/** One way of writing a period, with the sort key it gives each label, or null for a label it does not read. */
interface TimeForm {
  name: string;
  key(label: string): number | null;
}

/**
 * The forms a group of labels may share, tried in this order. "2011-12" is both a month and a financial year, so a
 * set of labels counts as months when every label is a real month, and as financial years only when one is not.
 */
const TIME_FORMS: TimeForm[] = [
  {
    name: 'date',
    key: (label) => {
      const iso = parseDate(label);
      return iso === null ? null : dayNumber(iso);
    },
  },
  {
    name: 'date and time',
    key: (label) => {
      const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(label);
      if (!match || parseDate(match[1]!) === null) return null;
      const zone = match[3] === undefined ? 'Z' : /^[+-]\d{2}$/.test(match[3]) ? `${match[3]}:00` : match[3];
      const time = Date.parse(`${match[1]}T${match[2]}${zone}`);
      return Number.isNaN(time) ? null : time;
    },
  },
  {
    name: 'month',
    key: (label) => {
      const yearFirst = /^(\d{4})-(\d{2})$/.exec(label);
      const monthFirst = /^(\d{1,2})\/(\d{4})$/.exec(label);
      const words = /^([A-Za-z]+\.?)\s+(\d{4})$/.exec(label);
      let year: number | null = null;
      let month: number | null = null;
      if (yearFirst) [year, month] = [Number(yearFirst[1]), Number(yearFirst[2])];
      else if (monthFirst) [year, month] = [Number(monthFirst[2]), Number(monthFirst[1])];
      else if (words) [year, month] = [Number(words[2]), monthNumber(words[1]!)];
      if (year === null || month === null || month < 1 || month > 12 || plausibleYear(year) === null) return null;
      return year * 12 + month - 1;
    },
  },
  { name: 'year or financial year', key: (label) => startYear(label) },
  {
    name: 'quarter',
    key: (label) => {
      const yearFirst = /^(.+?)\s*[- ]?\s*Q([1-4])$/i.exec(label);
      const quarterFirst = /^Q([1-4])\s*[- ]?\s*(.+)$/i.exec(label);
      const [yearText, quarter] = yearFirst ? [yearFirst[1]!, yearFirst[2]!] : quarterFirst ? [quarterFirst[2]!, quarterFirst[1]!] : [null, null];
      if (yearText === null) return null;
      const year = startYear(yearText.trim());
      return year === null ? null : year * 4 + Number(quarter) - 1;
    },
  },
];

/**
 * Returns a sort key for each label when every label is a period written in one form: all dates, all months, all years
 * or financial years, or all quarters. Returns null otherwise, so the caller keeps its own order. Blank labels make
 * the result null. A quarter of a financial year ("Q1 2024/25") sorts by the year the financial year starts.
 */
export function timeOrderKeys(labels: readonly string[]): number[] | null {
  if (labels.length === 0) return null;
  const trimmed = labels.map((label) => label.trim());
  for (const form of TIME_FORMS) {
    const keys = trimmed.map((label) => form.key(label));
    if (keys.every((key): key is number => key !== null)) return keys;
  }
  return null;
}

/** Sorts items in time order of their labels when every label is a period (see timeOrderKeys); returns null otherwise. */
export function sortByTime<T>(items: readonly T[], labelOf: (item: T) => string): T[] | null {
  const keys = timeOrderKeys(items.map(labelOf));
  if (keys === null) return null;
  return items
    .map((item, index) => ({ item, key: keys[index]!, index }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((entry) => entry.item);
}
