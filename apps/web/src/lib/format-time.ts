/** Message times for people: "14:05" today, "3 Mar, 14:05" on other days, a full date on hover. */

export interface FormattedTime {
  /** Shown beside the message. */
  short: string;
  /** For the `title` (and screen readers): weekday, date and time. */
  full: string;
  /** For `<time datetime>`. */
  iso: string;
}

export interface TimeOptions {
  /** BCP 47 locale; the browser's own when omitted. */
  locale?: string;
  /** IANA time zone; the browser's own when omitted. */
  timeZone?: string;
}

/**
 * @param ts The time to show, in ms since the epoch (the server's `ts`).
 * @param now The current time, to tell whether `ts` is today.
 */
export function formatTime(ts: number, now: number, options: TimeOptions = {}): FormattedTime {
  const { locale, timeZone } = options;
  const format = (style: Intl.DateTimeFormatOptions, t: number, lang = locale) => formatter(lang, { ...style, timeZone }).format(t);
  // en-CA writes dates as YYYY-MM-DD: easy to compare days and years.
  const day = (t: number) => format({ year: 'numeric', month: '2-digit', day: '2-digit' }, t, 'en-CA');
  const time = format({ hour: '2-digit', minute: '2-digit' }, ts);
  const sameYear = day(ts).slice(0, 4) === day(now).slice(0, 4);
  const date = format(sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' }, ts);
  return {
    short: day(ts) === day(now) ? time : `${date}, ${time}`,
    full: format({ dateStyle: 'full', timeStyle: 'short' }, ts),
    iso: new Date(ts).toISOString(),
  };
}

// Building an Intl.DateTimeFormat is far slower than using one, and a log formats hundreds.
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = JSON.stringify([locale, options]);
  let cached = formatters.get(key);
  if (cached === undefined) {
    cached = new Intl.DateTimeFormat(locale, options);
    formatters.set(key, cached);
  }
  return cached;
}
