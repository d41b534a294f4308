import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OVERSCAN_ROWS, UNMEASURED_ROWS, rowWindow } from './row-window.ts';

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
});
