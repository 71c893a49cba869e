/**
 * Agreement dates are calendar days in UK time. An agreement is in force from the start of its start date to the end
 * of its end date as observed in Europe/London. Its review is overdue from the day after the review date.
 */
const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });

const HOUR_MS = 3_600_000;
/** The hour (since 1970, UTC) of the last formatted instant and its London day, since formatting is slow. */
let lastHour = Number.NaN;
let lastDay = '';

/**
 * The calendar day in London at `instant`, as YYYY-MM-DD. London's offset from UTC has been a whole number of hours
 * since 1972, so its days change on the hour in UTC, and instants in one UTC hour share their day.
 */
export function londonDate(instant: Date): string {
  const hour = Math.floor(instant.getTime() / HOUR_MS);
  if (hour !== lastHour) {
    lastDay = LONDON_DAY.format(instant);
    lastHour = hour;
  }
  return lastDay;
}

/** Adds whole calendar months to an ISO date, clamping to the month's last day (31 January + 1 month = 28 February). */
export function addMonths(isoDate: string, months: number): string {
  const [year, month, day] = isoDate.split('-').map(Number) as [number, number, number];
  const target = new Date(Date.UTC(year, month - 1 + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return target.toISOString().slice(0, 10);
}

export type DateState = 'not_started' | 'in_force' | 'review_overdue' | 'expired';

/** Where `instant` falls against a version's dates; expiry wins over an overdue review. */
export function dateState(dates: { startDate: string; endDate: string; reviewDate: string }, instant: Date): DateState {
  const today = londonDate(instant);
  if (today < dates.startDate) return 'not_started';
  if (today > dates.endDate) return 'expired';
  if (today > dates.reviewDate) return 'review_overdue';
  return 'in_force';
}

/** The review reminder goes out from three months before the review date. */
export function reviewReminderDue(reviewDate: string, instant: Date): boolean {
  return londonDate(instant) >= addMonths(reviewDate, -3);
}

/**
 * Field errors, named as in the API, for a version whose end or review date has passed at `instant`. Such a version
 * would expire or lapse as soon as it came into force, so it is not submitted.
 */
export function passedDateErrors(dates: { endDate: string; reviewDate: string }, instant: Date): Array<{ field: string; message: string }> {
  const today = londonDate(instant);
  const errors: Array<{ field: string; message: string }> = [];
  if (dates.endDate < today) errors.push({ field: 'end_date', message: `The end date ${dates.endDate} has passed. Edit the draft and enter an end date of today (${today}) or later` });
  if (dates.reviewDate < today) errors.push({ field: 'review_date', message: `The review date ${dates.reviewDate} has passed. Edit the draft and enter a review date of today (${today}) or later` });
  return errors;
}
