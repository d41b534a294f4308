/**
 * Finishing a recovery that the welcome cut short. A reconnect with `since` gets at most one
 * bounded page of what it missed; `hasNewer: true` says more follows. The rest is fetched page by
 * page over HTTP (`after=<newest id covered so far>`) until the server says nothing newer is left.
 */
import type { HistoryPage } from '@parley/protocol';
import { newestInBatch } from './log-batch.ts';

/**
 * Most pages one recovery fetches. A page holds up to 200 messages but also at most 256 KiB of
 * them (by default), about 60 messages of the full 4 KiB: the default history of 1,000 such
 * messages is 17 pages. 40 leaves room for that and bounds what one reconnect fetches (10 MiB).
 */
export const MAX_RECOVERY_PAGES = 40;

/** Messages asked per page of a recovery (`limit`): the most the server gives at once. */
export const RECOVERY_PAGE_LIMIT = 200;

export interface RecoverySteps {
  /** Fetches the page after an id; rejects when it cannot (after its own retries). */
  fetchAfter: (after: string, signal: AbortSignal) => Promise<HistoryPage>;
  /**
   * A page came. `cursor` is the last id now held with no hole before it: until the recovery
   * ends, a reconnect asks for what follows it (live entries newer than the hole arrived
   * meanwhile). `after` is the id the page was asked after: when the page says `recovered:
   * false`, what followed it is gone, and the hole is right after it.
   */
  onPage: (page: HistoryPage, cursor: string, after: string) => void;
}

export type RecoveryOutcome =
  /** Everything up to the live entries is held; `gap` when the server no longer had some of it. */
  | { kind: 'complete'; pages: number; gap: boolean }
  /** The connection dropped (or the room closed): the next welcome starts again from `cursor`. */
  | { kind: 'aborted'; cursor: string; pages: number }
  /** Given up: a hole remains right after `cursor`. */
  | { kind: 'incomplete'; cursor: string; pages: number; reason: string; cause?: unknown };

/**
 * Fetches pages after `after` until the server has nothing newer, at most `maxPages` of them.
 *
 * @param after The newest id the welcome covered.
 */
export async function recoverAfter(
  after: string,
  steps: RecoverySteps,
  signal: AbortSignal,
  maxPages: number = MAX_RECOVERY_PAGES,
): Promise<RecoveryOutcome> {
  let cursor = after;
  let gap = false;
  for (let pages = 0; pages < maxPages;) {
    let page: HistoryPage;
    try {
      page = await steps.fetchAfter(cursor, signal);
    } catch (error) {
      if (signal.aborted) return { kind: 'aborted', cursor, pages };
      const reason = error instanceof Error ? error.message : String(error);
      return { kind: 'incomplete', cursor, pages, reason, cause: error };
    }
    if (signal.aborted) return { kind: 'aborted', cursor, pages };
    pages += 1;
    // The room moved on too far while we paged: its oldest entries were trimmed.
    if (page.recovered === false) gap = true;
    const previous = cursor;
    cursor = newestInBatch(page) ?? cursor;
    steps.onPage(page, cursor, previous);
    if (page.hasNewer !== true) return { kind: 'complete', pages, gap };
    // "More to come" with nothing in this page would ask for the same page forever.
    if (cursor === previous) return { kind: 'incomplete', cursor, pages, reason: 'The server sent an empty page.' };
  }
  return { kind: 'incomplete', cursor, pages: maxPages, reason: `Stopped after ${maxPages} pages.` };
}
