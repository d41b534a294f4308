import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LOG_WINDOW_ENTRIES, LOG_WINDOW_STEP, frozenAt, showing, widened, windowStart } from './log-window.ts';

const log = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}` }));

describe('the shown part of the log', () => {
  test('at the bottom: the newest entries only, all of a short log', () => {
    assert.equal(windowStart(log(1_000), { kind: 'tail' }), 1_000 - LOG_WINDOW_ENTRIES);
    assert.equal(windowStart(log(50), { kind: 'tail' }), 0);
  });

  test('scrolled up: the start stays on its entry while new ones arrive below', () => {
    const entries = log(1_000);
    const window = frozenAt(entries, windowStart(entries, { kind: 'tail' }));
    assert.deepEqual(window, { kind: 'from', key: `k${1_000 - LOG_WINDOW_ENTRIES}` });
    assert.equal(windowStart(log(1_300), window), 1_000 - LOG_WINDOW_ENTRIES, 'not the newest 200 of 1,300');
    // Older pages put in above move the anchor's index, not the entry it names.
    const withOlder = [...log(100).map(({ key }) => ({ key: `old${key}` })), ...entries];
    assert.equal(windowStart(withOlder, window), 1_100 - LOG_WINDOW_ENTRIES);
  });

  test('reaching the top shows a step more of what is held, then everything (older pages next)', () => {
    const entries = log(1_000);
    let start = windowStart(entries, { kind: 'tail' });
    start = windowStart(entries, widened(entries, start));
    assert.equal(start, 1_000 - LOG_WINDOW_ENTRIES - LOG_WINDOW_STEP);
    assert.deepEqual(widened(entries, 50), { kind: 'start' });
    assert.equal(windowStart(entries, { kind: 'start' }), 0);
  });

  test('an entry that must be shown is, with a few above it: the divider, a reply’s original', () => {
    const entries = log(1_000);
    assert.equal(windowStart(entries, { kind: 'tail' }, 300), 295);
    assert.equal(windowStart(entries, { kind: 'tail' }, 2), 0);
    assert.equal(windowStart(entries, { kind: 'tail' }, 990), 1_000 - LOG_WINDOW_ENTRIES, 'shown already');
    assert.equal(windowStart(entries, showing(entries, 800, 100)), 95);
    assert.equal(windowStart(entries, showing(entries, 800, 900)), 800, 'never starts later than it did');
  });

  test('an anchor that is gone (the log was trimmed) falls back to the newest entries', () => {
    assert.equal(windowStart(log(1_000), { kind: 'from', key: 'gone' }), 1_000 - LOG_WINDOW_ENTRIES);
  });

  test('an anchor within the newest entries shows the newest entries', () => {
    assert.equal(windowStart(log(1_000), { kind: 'from', key: 'k950' }), 1_000 - LOG_WINDOW_ENTRIES);
  });
});
