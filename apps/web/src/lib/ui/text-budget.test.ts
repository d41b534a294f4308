import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LIMITS } from '@parley/protocol';
import { textBudget } from './text-budget.ts';

describe('textBudget', () => {
  test('hidden for ordinary messages', () => {
    assert.deepEqual(textBudget('hello', 100), { left: 95, show: false, over: false });
  });

  test('shown near the limit, counting UTF-8 bytes', () => {
    assert.deepEqual(textBudget('x'.repeat(80), 100), { left: 20, show: true, over: false });
    assert.deepEqual(textBudget('한'.repeat(30), 100), { left: 10, show: true, over: false });
    assert.deepEqual(textBudget('x'.repeat(100), 100), { left: 0, show: true, over: false });
  });

  test('over the limit', () => {
    assert.deepEqual(textBudget('한'.repeat(1_400)), { left: LIMITS.maxTextBytes - 4_200, show: true, over: true });
  });
});
