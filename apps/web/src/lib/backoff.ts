/** Bounds of the reconnect delay, in milliseconds. */
export interface BackoffOptions {
  /** The shortest wait, and the base that doubles with every failed attempt. */
  minMs: number;
  /** The longest wait, however many attempts failed. */
  maxMs: number;
}

/** Half a second after the first drop, never more than ten seconds apart. */
export const DEFAULT_BACKOFF: BackoffOptions = { minMs: 500, maxMs: 10_000 };

/**
 * How long to wait before reconnect attempt number `attempt` (0 for the first retry).
 *
 * Full jitter (AWS "Exponential Backoff and Jitter", as centrifuge-js does it): a random share of
 * an exponentially growing window, so that after a server restart thousands of clients do not
 * reconnect in lock-step. The result is floored at `minMs` so that a client never spins.
 *
 * @param attempt How many attempts have failed since the last successful open.
 * @param options The bounds; {@link DEFAULT_BACKOFF} unless given.
 * @param random A source of numbers in [0, 1); injectable for tests.
 * @returns The delay in whole milliseconds, within [minMs, maxMs].
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const { minMs, maxMs } = options;
  // 2 ** 31 already exceeds any sane maximum; capping the exponent keeps the maths finite.
  const exponent = Number.isNaN(attempt) ? 0 : Math.min(Math.max(0, Math.floor(attempt)), 31);
  const window = Math.min(maxMs, minMs * 2 ** exponent);
  const jittered = Math.floor(random() * window);
  return Math.min(maxMs, Math.max(minMs, jittered));
}
