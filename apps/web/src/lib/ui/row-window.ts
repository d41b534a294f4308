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
 * How far out of the window a row to keep (see rowWindow's `keep`) may be and still be kept:
 * further, it is let go rather than render every row between it and the view.
 */
export const KEEP_WITHIN_ROWS = 60;

/**
 * @param count Rows in the list.
 * @param rowHeight Height of one row, in pixels.
 * @param scrollTop How far the list is scrolled, in pixels.
 * @param viewportHeight The visible height of the list, in pixels (0: hidden).
 * @param keep A row to keep in the page though it is out of the window (the one with the
 *   focus: taking its element out of the page would drop the focus, and a menu open on it), as
 *   long as it is within KEEP_WITHIN_ROWS of the window; the window grows to take it in.
 */
export function rowWindow(
  count: number,
  rowHeight: number,
  scrollTop: number,
  viewportHeight: number,
  keep?: number,
): RowWindow {
  if (count <= 0) return { start: 0, end: 0, spaceBefore: 0, spaceAfter: 0 };
  const measured = rowHeight > 0 && viewportHeight > 0;
  let start: number;
  let end: number;
  if (!measured) {
    start = 0;
    end = Math.min(count, UNMEASURED_ROWS);
  } else {
    const top = Math.max(0, scrollTop);
    start = Math.min(count, Math.max(0, Math.floor(top / rowHeight) - OVERSCAN_ROWS));
    end = Math.min(count, Math.max(start, Math.ceil((top + viewportHeight) / rowHeight) + OVERSCAN_ROWS));
  }
  if (keep !== undefined && Number.isInteger(keep) && keep >= 0 && keep < count) {
    if (keep < start && start - keep <= KEEP_WITHIN_ROWS) start = keep;
    else if (keep >= end && keep - end < KEEP_WITHIN_ROWS) end = keep + 1;
  }
  // Unmeasured, the rows are simply the list's first ones: no space stands in for the others.
  const height = measured ? rowHeight : 0;
  return { start, end, spaceBefore: start * height, spaceAfter: (count - end) * height };
}
