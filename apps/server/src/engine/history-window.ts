import { compareMessageIds } from '@parley/protocol';
import type { HistoryQuery, HistoryResult, StoredMessage } from './engine.ts';

/**
 * Picks the requested window from a room's retained log (oldest first). Shared by both engines'
 * semantics: the Redis engine reads the same windows with XRANGE/XREVRANGE.
 *
 * @param log Retained messages, oldest first.
 * @param maxDeletedId The newest id ever trimmed from the log, if any.
 * @param lastId The newest id ever written, if any.
 * @param query since / before / latest page.
 * @returns The window, oldest first.
 */
export function readHistory(
  log: readonly StoredMessage[],
  maxDeletedId: string | undefined,
  lastId: string | undefined,
  query: HistoryQuery,
): HistoryResult {
  if (query.since !== undefined && sinceIsRecoverable(query.since, maxDeletedId, lastId)) {
    const messages = log.filter((m) => compareMessageIds(m.id, query.since!) > 0);
    // `messages` is a suffix of the log: anything before it is older history.
    const hasMore = messages.length < log.length || maxDeletedId !== undefined;
    return { messages, recovered: true, hasMore };
  }
  const older = query.before === undefined ? log : log.filter((m) => compareMessageIds(m.id, query.before!) < 0);
  const messages = older.slice(Math.max(0, older.length - query.limit));
  const hasMore = older.length > messages.length || maxDeletedId !== undefined;
  return { messages, recovered: false, hasMore };
}

/**
 * A `since` can be recovered when nothing after it was trimmed and it is not from the future
 * (a room that expired and started over).
 *
 * @param since The last id the client has.
 * @param oldestRecoverable The smallest `since` with nothing trimmed after it (undefined: nothing
 *   was ever trimmed). Exact engines pass the newest trimmed id; Redis passes its first retained id.
 * @param lastId The newest id ever written, if any.
 */
export function sinceIsRecoverable(since: string, oldestRecoverable: string | undefined, lastId: string | undefined): boolean {
  if (lastId === undefined) return false;
  if (compareMessageIds(since, lastId) > 0) return false;
  return oldestRecoverable === undefined || compareMessageIds(since, oldestRecoverable) >= 0;
}
