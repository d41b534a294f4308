import { compareMessageIds } from '@parley/protocol';
import { fitPage, type HistoryQuery, type HistoryResult, type StoredMessage } from './engine.ts';

/**
 * Picks the requested page from a room's retained log (oldest first), with the semantics both
 * engines share (the Redis engine reads the same pages with XRANGE/XREVRANGE).
 *
 * @param log Retained messages, oldest first.
 * @param maxDeletedId The newest id ever trimmed from the log, if any.
 * @param lastId The newest id ever written, if any.
 * @param query since / after / before / latest page, with its bounds.
 */
export function readHistory(
  log: readonly StoredMessage[],
  maxDeletedId: string | undefined,
  lastId: string | undefined,
  query: HistoryQuery,
): HistoryResult {
  const from = query.since ?? query.after;
  if (from !== undefined) {
    const recoverable = sinceIsRecoverable(from, maxDeletedId, lastId);
    if (recoverable || query.after !== undefined) {
      // Not recoverable (after): what follows the trimmed stretch, from the oldest kept.
      const newer = recoverable ? log.filter((m) => compareMessageIds(m.id, from) > 0) : log;
      const messages = fitPage(newer, query.limit, query.maxBytes);
      // Older messages that can still be fetched (trimmed ones cannot).
      const hasMore = messages.length === 0 ? log.length > 0 : log[0] !== messages[0];
      return { messages, recovered: recoverable, hasMore, hasNewer: messages.length < newer.length };
    }
  }
  const older = query.before === undefined ? log : log.filter((m) => compareMessageIds(m.id, query.before!) < 0);
  const messages = fitPage(older, query.limit, query.maxBytes, true);
  const hasMore = older.length > messages.length;
  return { messages, recovered: false, hasMore, hasNewer: false };
}

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
