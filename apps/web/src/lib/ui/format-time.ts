/**
 * Message times for people: "5 minutes ago" beside a message, the clock time ("14:05" today,
 * "3 Mar, 14:05" on other days) where space is short, and the full date in the tooltip.
 */

export interface FormattedTime {
  /** How long ago, in words: "just now", "5 minutes ago", "yesterday", or the date when older. */
  relative: string;
  /** The clock time, with the date when not today. */
  short: string;
  /** For the `title` (and screen readers): weekday, date and time. */
  full: string;
  /** For `<time datetime>`. */
  iso: string;
}

export interface TimeOptions {
  /** BCP 47 locale of dates and clock times; the browser's own when omitted. */
  locale?: string;
  /** Locale of the relative wording: English by default, like the rest of the app's text. */
  relativeLocale?: string;
  /** IANA time zone; the browser's own when omitted. */
  timeZone?: string;
}

/**
 * @param ts The time to show, in ms since the epoch (the server's `ts`).
 * @param now The current time, to tell whether `ts` is today.
 */
export function formatTime(ts: number, now: number, options: TimeOptions = {}): FormattedTime {
  const { locale, timeZone } = options;
  const format = (style: Intl.DateTimeFormatOptions, t: number, lang = locale) =>
    formatter(lang, { ...style, timeZone }).format(t);
  // en-CA writes dates as YYYY-MM-DD: easy to compare days and years.
  const day = (t: number) => format({ year: 'numeric', month: '2-digit', day: '2-digit' }, t, 'en-CA');
  const time = format({ hour: '2-digit', minute: '2-digit' }, ts);
  const sameYear = day(ts).slice(0, 4) === day(now).slice(0, 4);
  const date = format(
    sameYear ? { day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short', year: 'numeric' },
    ts,
  );
  return {
    relative: relative(ts, now, options.relativeLocale ?? 'en') ?? date,
    short: day(ts) === day(now) ? time : `${date}, ${time}`,
    full: format({ dateStyle: 'full', timeStyle: 'short' }, ts),
    iso: new Date(ts).toISOString(),
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "just now" … "6 days ago"; `undefined` for anything older (then the date reads better). */
function relative(ts: number, now: number, locale: string): string | undefined {
  const ago = now - ts;
  // A clock a little ahead of the server's makes new messages look a few seconds in the future.
  if (ago < MINUTE) return 'just now';
  const words = relativeFormatter(locale);
  if (ago < HOUR) return words.format(-Math.floor(ago / MINUTE), 'minute');
  if (ago < DAY) return words.format(-Math.floor(ago / HOUR), 'hour');
  if (ago < 7 * DAY) return words.format(-Math.floor(ago / DAY), 'day');
  return undefined;
}

const relativeFormatters = new Map<string, Intl.RelativeTimeFormat>();

function relativeFormatter(locale: string): Intl.RelativeTimeFormat {
  let cached = relativeFormatters.get(locale);
  if (cached === undefined) {
    // numeric: 'auto' says "yesterday" rather than "1 day ago".
    cached = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
    relativeFormatters.set(locale, cached);
  }
  return cached;
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
