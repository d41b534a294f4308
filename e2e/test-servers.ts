/** Settings shared by the servers playwright.config.ts starts and the ones specs start themselves. */

/** Messages in a welcome and in a scroll-back page on the test servers. */
export const HISTORY_PAGE_SIZE = 20;

/** Server environment that every test server gets, on top of its port and engine. */
export const TEST_SERVER_ENV = {
  // A small page, so that scroll-back is tested with few messages.
  HISTORY_PAGE_SIZE: String(HISTORY_PAGE_SIZE),
  // Every test browser connects from 127.0.0.1: a shared per-address message allowance would let
  // one spec's messages throttle another's. Per-connection limits still apply.
  RATE_LIMIT_PER_IP: '0',
} as const;
