/**
 * Trying an HTTP request again, within bounds: after a "429 Too Many Requests" as long as the
 * server's Retry-After says, after a network failure or a 5xx with the reconnect backoff, and
 * never after anything else (a 4xx or an answer this app does not understand will not change).
 */
import { backoffDelay, type BackoffOptions } from '@parley/client';
import { ApiError } from './rooms-api.ts';

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** A Retry-After longer than this is not waited for: the request fails instead. */
  maxWaitMs?: number;
  /** Waits between tries without a Retry-After. */
  backoff?: BackoffOptions;
  signal?: AbortSignal;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** A wait without a Retry-After starts at a second: a rate limit refills per second. */
const DEFAULT_RETRY_BACKOFF: BackoffOptions = { minMs: 1_000, maxMs: 10_000 };
const DEFAULT_MAX_WAIT_MS = 60_000;

/**
 * How long to wait before trying again after `error`, or `undefined` not to try again.
 *
 * @param attempt Tries that failed before this one (0 after the first).
 */
export function retryDelay(
  error: unknown,
  attempt: number,
  options: Omit<RetryOptions, 'attempts' | 'signal' | 'sleep'> = {},
): number | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const backoff = () => backoffDelay(attempt, options.backoff ?? DEFAULT_RETRY_BACKOFF, options.random);
  if (error.status === 429) {
    const wait = error.retryAfterMs ?? backoff();
    return wait <= (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS) ? wait : undefined;
  }
  if (error.status === null || error.status >= 500) return backoff();
  return undefined;
}

/**
 * Runs `task` until it succeeds, fails in a way that trying again cannot fix, or has been tried
 * `attempts` times; the last error is thrown. An abort stops it (with the AbortError).
 */
export async function withRetry<T>(task: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? abortableSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await task();
    } catch (error) {
      const wait = retryDelay(error, attempt, options);
      if (wait === undefined || attempt + 1 >= options.attempts || options.signal?.aborted) throw error;
      await sleep(wait, options.signal);
    }
  }
}

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` aborts. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
