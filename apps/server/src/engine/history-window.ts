import { compareMessageIds } from '@parley/protocol';

/**
 * A `since` can be recovered when nothing after it was trimmed and it is from this life of the
 * room's log: not from the future, nor from before the log's first entry when nothing was ever
 * trimmed (the room expired and started over, or a Redis without persistence came back empty
 * and its log was begun again: what came between is gone, so it must not be called recovered).
 * `0-0` ("I have seen nothing") is recoverable from a log that lost nothing.
 *
 * @param since The last id the client has.
 * @param oldestRecoverable The smallest `since` with nothing trimmed after it (undefined: nothing
 *   was ever trimmed): the newest trimmed id. (Redis logs written before it kept that id have
 *   only their first retained id to offer, which is one message stricter.)
 * @param lastId The newest id ever written, if any.
 * @param firstId The oldest id the log holds, if any: when nothing was trimmed, the first it ever held.
 */
export function sinceIsRecoverable(
  since: string,
  oldestRecoverable: string | undefined,
  lastId: string | undefined,
  firstId: string | undefined,
): boolean {
  if (lastId === undefined) return false;
  if (compareMessageIds(since, lastId) > 0) return false;
  if (oldestRecoverable !== undefined) return compareMessageIds(since, oldestRecoverable) >= 0;
  return firstId === undefined || compareMessageIds(since, firstId) >= 0 || compareMessageIds(since, '0-0') === 0;
}
