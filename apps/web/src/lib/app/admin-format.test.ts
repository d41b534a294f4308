import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatUntil } from './admin-format.ts';

describe('formatUntil', () => {
  test('0 is a ban without end', () => {
    assert.equal(formatUntil(0), 'until lifted');
  });

  test('a time is shown as a date and time', () => {
    const shown = formatUntil(Date.UTC(2026, 11, 3, 12, 30), 'en-GB');
    assert.match(shown, /2026/);
    assert.match(shown, /Dec/);
  });
});
