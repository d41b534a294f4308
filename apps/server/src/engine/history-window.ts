import { compareMessageIds } from '@parley/protocol';

/**
 * A `since` can be recovered when nothing after it was trimmed and it is not from the future
 * (a room that expired and started over).
 *
 * @param since The last id the client has.
 * @param oldestRecoverable The smallest `since` with nothing trimmed after it (undefined: nothing
 *   was ever trimmed): the newest trimmed id. (Redis logs written before it kept that id have
 *   only their first retained id to offer, which is one message stricter.)
 * @param lastId The newest id ever written, if any.
 */
export function sinceIsRecoverable(
  since: string,
  oldestRecoverable: string | undefined,
  lastId: string | undefined,
): boolean {
  if (lastId === undefined) return false;
  if (compareMessageIds(since, lastId) > 0) return false;
  return oldestRecoverable === undefined || compareMessageIds(since, oldestRecoverable) >= 0;
}
