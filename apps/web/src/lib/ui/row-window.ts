/**
 * Which rows of a long list of equal-height rows to put in the page: those in view and a few
 * around them. The rest are stood in for by empty space above and below, so scrolling, the
 * scroll bar and the list's height stay as if every row were there, while the page holds a
 * few dozen elements whatever the list's length (a room of thousands of people).
 */
export interface RowWindow {
  /** The first row to render (inclusive) and the one after the last. */
  start: number;
  end: number;
  /** Empty space, in pixels, standing in for the rows before `start` and after `end`. */
  spaceBefore: number;
  spaceAfter: number;
}

/** Rows rendered beyond each edge of the view, so a quick scroll shows no gap. */
export const OVERSCAN_ROWS = 8;
/** Rows rendered while the list's size is not known (hidden, or not yet laid out). */
export const UNMEASURED_ROWS = 60;

/**
 * @param count Rows in the list.
 * @param rowHeight Height of one row, in pixels.
 * @param scrollTop How far the list is scrolled, in pixels.
 * @param viewportHeight The visible height of the list, in pixels (0: hidden).
 */
export function rowWindow(count: number, rowHeight: number, scrollTop: number, viewportHeight: number): RowWindow {
  if (count <= 0) return { start: 0, end: 0, spaceBefore: 0, spaceAfter: 0 };
  if (!(rowHeight > 0) || !(viewportHeight > 0)) {
    const end = Math.min(count, UNMEASURED_ROWS);
    return { start: 0, end, spaceBefore: 0, spaceAfter: 0 };
  }
  const top = Math.max(0, scrollTop);
  const start = Math.min(count, Math.max(0, Math.floor(top / rowHeight) - OVERSCAN_ROWS));
  const end = Math.min(count, Math.max(start, Math.ceil((top + viewportHeight) / rowHeight) + OVERSCAN_ROWS));
  return { start, end, spaceBefore: start * rowHeight, spaceAfter: (count - end) * rowHeight };
}
