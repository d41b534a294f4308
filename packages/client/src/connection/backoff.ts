/** Bounds of a growing, jittered wait, in milliseconds. */
export interface BackoffOptions {
  /** The shortest wait, and the base that doubles with every failed attempt. */
  minMs: number;
  /** The longest wait, however many attempts failed. */
  maxMs: number;
}

/** Reconnects: half a second after the first drop, never more than ten seconds apart. */
export const RECONNECT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 10_000 };

/** Resends after `unavailable` or `rate_limited`: a rate limit refills per second. */
export const RETRY_BACKOFF: BackoffOptions = { minMs: 1_000, maxMs: 10_000 };

/**
 * How long to wait before attempt number `attempt` (0 for the first retry).
 *
 * "Full jitter" (after AWS "Exponential Backoff and Jitter"): a random point between `minMs` and
 * a window that doubles with every failed attempt, so that after a server restart, or while it
 * refuses upgrades (HTTP 429 or 503, which a browser only sees as a failed connection),
 * thousands of clients do not come back in lock-step. Even the first retry is spread, over
 * [minMs, 2 × minMs); no wait is ever shorter than `minMs`, so a client never spins.
 *
 * @param attempt How many attempts have failed since the last success.
 * @param options The bounds; {@link RECONNECT_BACKOFF} unless given.
 * @param random A source of numbers in [0, 1); injectable for tests.
 * @returns Whole milliseconds within [minMs, maxMs].
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = RECONNECT_BACKOFF,
  random: () => number = Math.random,
): number {
  const { minMs, maxMs } = options;
  // 2 ** 31 already exceeds any sane maximum; capping the exponent keeps the maths finite.
  const exponent = Number.isNaN(attempt) ? 0 : Math.min(Math.max(0, Math.floor(attempt)), 30);
  const window = Math.min(maxMs, minMs * 2 ** (exponent + 1));
  const jittered = minMs + Math.floor(random() * Math.max(0, window - minMs));
  return Math.min(maxMs, Math.max(minMs, jittered));
}
