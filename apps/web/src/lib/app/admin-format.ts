/**
 * How the operator's page shows when a ban ends: "until lifted" for 0, else the local date
 * and time.
 *
 * @param until When it ends (ms), 0 for never.
 * @param locale For tests; the browser's by default.
 */
export function formatUntil(until: number, locale?: string): string {
  if (until === 0) return 'until lifted';
  return new Date(until).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
