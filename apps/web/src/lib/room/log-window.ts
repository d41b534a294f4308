/**
 * Which part of the room's log the page shows. The log held in memory is bounded (see
 * TIMELINE_MAX_ENTRIES), but putting all of it in the page costs every render and layout: at the
 * bottom, where readers of a busy room spend their time, the page holds only the newest
 * LOG_WINDOW_ENTRIES entries. Scrolling up freezes where the shown part starts (nothing moves
 * under the reader) and, near the top, shows LOG_WINDOW_STEP more of what is held, before older
 * pages are asked of the server.
 */

/** Entries in the page while the reader is at the bottom. */
export const LOG_WINDOW_ENTRIES = 200;
/** Entries put in above, each time the reader reaches the top of what is shown. */
export const LOG_WINDOW_STEP = 100;
/** Entries shown above one the page must show (the "new since your last visit" divider, a reply's original). */
const CONTEXT_ENTRIES = 5;

/** Where the shown part of the log starts. */
export type LogWindow =
  /** The newest LOG_WINDOW_ENTRIES: the reader is at the bottom, and the start moves with new entries. */
  | { kind: 'tail' }
  /** From this entry on: the reader scrolled up, and the start stays put. */
  | { kind: 'from'; key: string }
  /** Everything held: older pages are being loaded, and go in shown. */
  | { kind: 'start' };

/**
 * The index of the first entry shown.
 *
 * @param mustShow The index of an entry that must be in the page, with a few above it (-1: none).
 */
export function windowStart(entries: readonly { key: string }[], window: LogWindow, mustShow = -1): number {
  const tail = Math.max(0, entries.length - LOG_WINDOW_ENTRIES);
  let start = tail;
  if (window.kind === 'start') start = 0;
  else if (window.kind === 'from') {
    const anchor = entries.findIndex((entry) => entry.key === window.key);
    // (The entry went: the log was trimmed meanwhile, which it is only at the bottom.)
    if (anchor >= 0) start = Math.min(anchor, tail);
  }
  if (mustShow >= 0) start = Math.min(start, Math.max(0, mustShow - CONTEXT_ENTRIES));
  return start;
}

/** The window once the reader scrolled up from `start`: it stays where it starts. */
export function frozenAt(entries: readonly { key: string }[], start: number): LogWindow {
  const first = entries[start];
  return start === 0 || first === undefined ? { kind: 'start' } : { kind: 'from', key: first.key };
}

/** The window with LOG_WINDOW_STEP more of the held entries above `start`; all of them when fewer are left. */
export function widened(entries: readonly { key: string }[], start: number): LogWindow {
  return frozenAt(entries, Math.max(0, start - LOG_WINDOW_STEP));
}

/** The window that shows the entry at `index` (with a few above), starting no later than `start`. */
export function showing(entries: readonly { key: string }[], start: number, index: number): LogWindow {
  return frozenAt(entries, Math.min(start, Math.max(0, index - CONTEXT_ENTRIES)));
}
