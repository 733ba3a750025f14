/** How figures, dates and names are written in the console (en-US, fixed, so links and tests read the same). */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, minimumFractionDigits: 0 });

/** 12,345 — credits are integers. */
export function formatCredits(value: number): string {
  return integer.format(value).replace('-', '−');
}

/** A row's credits: a refund is negative and written with a minus sign (−3), a charge plainly. */
export function formatSignedCredits(value: number): string {
  return value < 0 ? `−${integer.format(-value)}` : integer.format(value);
}

/** A rate such as 13.33 credits a day. */
export function formatRate(value: number): string {
  return decimal.format(value);
}

const dateTimes = new Map<string, Intl.DateTimeFormat>();
function dateTimeIn(timeZone: string, withTime: boolean): Intl.DateTimeFormat {
  const key = `${timeZone}|${withTime}`;
  let f = dateTimes.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: 'short',
      day: 'numeric',
      ...(withTime ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' } : {}),
    });
    dateTimes.set(key, f);
  }
  return f;
}

/** Nov 2, 2026, 10:00 in the zone. */
export function formatDateTime(iso: string, timeZone: string): string {
  return dateTimeIn(timeZone, true).format(new Date(iso));
}

/** Nov 2, 2026 in the zone. */
export function formatDate(iso: string, timeZone: string): string {
  return dateTimeIn(timeZone, false).format(new Date(iso));
}

/** people_search → People search; csv_export → Csv export; keeps ids readable without a catalogue. */
export function humanize(id: string | null | undefined): string {
  if (!id) return '—';
  const words = id.replace(/[_.:-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** 0.8 → 80%; at most one decimal below 10%. */
export function formatPercent(ratio: number): string {
  const pct = ratio * 100;
  return `${pct < 10 && pct > 0 ? pct.toFixed(1) : Math.round(pct)}%`;
}

/** "in 3 days", "today", "1 day left" style counts. */
export function formatDaysLeft(days: number): string {
  return days === 0 ? 'ends today' : days === 1 ? '1 day left' : `${days} days left`;
}
