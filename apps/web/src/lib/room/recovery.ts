/**
 * Finishing a recovery that the welcome cut short. A reconnect with `since` gets at most one
 * bounded page of what it missed; `hasNewer: true` says more follows. The rest is fetched page
 * by page over HTTP (`after=<newest id of the stretch so far>`, a message's or a change's) until the server says nothing
 * newer is left. Live messages keep arriving meanwhile and may be newer than the hole: the caller
 * merges each page in its place and, until the loop ends, reconnects from the last id that
 * follows on without a hole ({@link RecoveryCallbacks.onPage}'s `cursor`), never from the newest.
 */
import type { HistoryPage } from '@parley/protocol';
import { newestInBatch } from './changes.ts';

/**
 * Most pages one recovery fetches. A page holds up to 200 messages but also at most 256 KiB of
 * them (by default), about 60 messages of the full 4 KiB: the default history of 1,000 such
 * messages is 17 pages. 40 leaves room for that and bounds what one reconnect fetches (10 MiB).
 */
export const MAX_RECOVERY_PAGES = 40;

/** Messages per page of a recovery (`limit`): the most the server gives at once. */
export const RECOVERY_PAGE_LIMIT = 200;

export interface RecoveryCallbacks {
  /**
   * Fetches the page after an id (retrying as it sees fit); rejects when it cannot.
   *
   * @param after The last id of the stretch recovered so far.
   */
  fetchNewer: (after: string, signal: AbortSignal) => Promise<HistoryPage>;
  /**
   * A page came: merge its messages. When `page.recovered` is false the server no longer had
   * the messages right after `after`: the hole is right after it, and the page starts a new
   * stretch.
   *
   * @param cursor The last id now held without a hole before it: the `since` of a reconnect.
   */
  onPage: (page: HistoryPage, after: string, cursor: string) => void;
}

export type RecoveryOutcome =
  /** Everything up to the live messages is held. */
  | { kind: 'complete' }
  /** Aborted (the socket dropped, or the room was left): the next welcome takes over from `cursor`. */
  | { kind: 'aborted'; cursor: string }
  /** Given up: a hole remains right after `cursor` (mark it). */
  | { kind: 'incomplete'; cursor: string; reason: string };

/**
 * Fetches pages after `after` until the server has nothing newer, at most `maxPages` of them.
 *
 * @param after The last id of the welcome's history (or the `since` it was asked with).
 */
export async function recoverNewer(
  after: string,
  callbacks: RecoveryCallbacks,
  signal: AbortSignal,
  maxPages: number = MAX_RECOVERY_PAGES,
): Promise<RecoveryOutcome> {
  let cursor = after;
  for (let pages = 0; pages < maxPages; pages++) {
    let page: HistoryPage;
    try {
      page = await callbacks.fetchNewer(cursor, signal);
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted', cursor };
      return { kind: 'incomplete', cursor, reason: error instanceof Error ? error.message : String(error) };
    }
    if (signal.aborted) return { kind: 'aborted', cursor };
    const previous = cursor;
    // The newest id of the page, a message's or a change's: the next page follows it.
    cursor = newestInBatch(page) ?? cursor;
    callbacks.onPage(page, previous, cursor);
    if (page.hasNewer !== true) return { kind: 'complete' };
    // "More to come" with nothing in this page would ask for the same page forever.
    if (cursor === previous) return { kind: 'incomplete', cursor, reason: 'The server sent an empty page.' };
  }
  return { kind: 'incomplete', cursor, reason: `Stopped after ${maxPages} pages.` };
}
