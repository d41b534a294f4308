import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KEEP_WITHIN_ROWS, OVERSCAN_ROWS, UNMEASURED_ROWS, rowWindow } from './row-window.ts';

describe('rowWindow', () => {
  test('a list of 10,000 rows puts only those in view and a few around them in the page', () => {
    const w = rowWindow(10_000, 40, 40 * 5_000, 400);
    assert.equal(w.start, 5_000 - OVERSCAN_ROWS);
    assert.equal(w.end, 5_010 + OVERSCAN_ROWS);
    assert.ok(w.end - w.start <= 10 + 2 * OVERSCAN_ROWS);
    // The space stands in for every row left out: the list keeps its whole height.
    assert.equal(w.spaceBefore + (w.end - w.start) * 40 + w.spaceAfter, 10_000 * 40);
  });

  test('at the top and at the bottom the window stops at the list’s ends', () => {
    assert.deepEqual(rowWindow(100, 40, 0, 400), {
      start: 0,
      end: 10 + OVERSCAN_ROWS,
      spaceBefore: 0,
      spaceAfter: (100 - 18) * 40,
    });
    const bottom = rowWindow(100, 40, 100 * 40 - 400, 400);
    assert.equal(bottom.end, 100);
    assert.equal(bottom.spaceAfter, 0);
    // Scrolled past the end (the list just got shorter): still a valid window.
    const past = rowWindow(100, 40, 1e9, 400);
    assert.ok(past.start <= past.end && past.end === 100 && past.spaceAfter === 0);
  });

  test('a short list is rendered whole', () => {
    assert.deepEqual(rowWindow(5, 40, 0, 400), { start: 0, end: 5, spaceBefore: 0, spaceAfter: 0 });
    assert.deepEqual(rowWindow(0, 40, 0, 400), { start: 0, end: 0, spaceBefore: 0, spaceAfter: 0 });
  });

  test('a hidden or unmeasured list renders a bounded first part', () => {
    assert.equal(rowWindow(10_000, 40, 0, 0).end, UNMEASURED_ROWS);
    assert.equal(rowWindow(10_000, 0, 0, 400).end, UNMEASURED_ROWS);
    assert.equal(rowWindow(10, Number.NaN, 0, 400).end, 10);
  });

  test('a row to keep (the focused one) stays in the page when the view moves away from it', () => {
    const view = rowWindow(1_000, 40, 40 * 500, 400);
    // Above the window: the window starts at it, the space before shrinks to match.
    const above = rowWindow(1_000, 40, 40 * 500, 400, view.start - 10);
    assert.equal(above.start, view.start - 10);
    assert.equal(above.end, view.end);
    assert.equal(above.spaceBefore, above.start * 40);
    // Below it: the window ends just after it.
    const below = rowWindow(1_000, 40, 40 * 500, 400, view.end + 10);
    assert.equal(below.start, view.start);
    assert.equal(below.end, view.end + 11);
    assert.equal(below.spaceAfter, (1_000 - below.end) * 40);
    for (const w of [above, below]) assert.equal(w.spaceBefore + (w.end - w.start) * 40 + w.spaceAfter, 1_000 * 40);
    // In the window already, or none: the window as it is.
    assert.deepEqual(rowWindow(1_000, 40, 40 * 500, 400, 505), view);
    assert.deepEqual(rowWindow(1_000, 40, 40 * 500, 400, undefined), view);
  });

  test('a row to keep far from the view, or not in the list, is let go', () => {
    const view = rowWindow(1_000, 40, 40 * 500, 400);
    assert.deepEqual(rowWindow(1_000, 40, 40 * 500, 400, view.start - KEEP_WITHIN_ROWS - 1), view);
    assert.deepEqual(rowWindow(1_000, 40, 40 * 500, 400, view.end + KEEP_WITHIN_ROWS), view);
    assert.equal(rowWindow(1_000, 40, 40 * 500, 400, view.end + KEEP_WITHIN_ROWS - 1).end, view.end + KEEP_WITHIN_ROWS);
    for (const keep of [-1, 1_000, 2.5, Number.NaN]) assert.deepEqual(rowWindow(1_000, 40, 40 * 500, 400, keep), view);
  });
});
