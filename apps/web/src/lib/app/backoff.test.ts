import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

describe('backoffDelay', () => {
  test('stays within [min, max] for any attempt and any random value', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      for (const r of [0, 0.001, 0.25, 0.5, 0.999999]) {
        const delay = backoffDelay(attempt, DEFAULT_BACKOFF, () => r);
        assert.ok(delay >= DEFAULT_BACKOFF.minMs, `attempt ${attempt}, r ${r}: ${delay}`);
        assert.ok(delay <= DEFAULT_BACKOFF.maxMs, `attempt ${attempt}, r ${r}: ${delay}`);
      }
    }
  });

  test('the jitter window doubles with every attempt until it reaches max', () => {
    const options = { minMs: 100, maxMs: 1_000 };
    const top = () => 0.999999;
    assert.equal(backoffDelay(0, options, top), 199);
    assert.equal(backoffDelay(1, options, top), 399);
    assert.equal(backoffDelay(2, options, top), 799);
    assert.equal(backoffDelay(3, options, top), 999);
    assert.equal(backoffDelay(40, options, top), 999);
  });

  test('is jittered from the first retry on, never below min', () => {
    const options = { minMs: 100, maxMs: 10_000 };
    assert.equal(
      backoffDelay(0, options, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(0, options, () => 0.5),
      150,
    );
    assert.equal(
      backoffDelay(5, options, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(5, options, () => 0.5),
      3_250,
    );
    const first = new Set(Array.from({ length: 50 }, () => backoffDelay(0)));
    assert.ok(first.size > 10, `the first retry took only ${first.size} distinct delays`);
  });

  test('tolerates odd attempt numbers', () => {
    assert.equal(
      backoffDelay(-3, DEFAULT_BACKOFF, () => 0.5),
      750,
    );
    assert.equal(
      backoffDelay(Number.POSITIVE_INFINITY, DEFAULT_BACKOFF, () => 0.5),
      5_250,
    );
    assert.equal(
      backoffDelay(Number.NaN, DEFAULT_BACKOFF, () => 0.5),
      750,
    );
    assert.equal(
      backoffDelay(2.7, { minMs: 100, maxMs: 10_000 }, () => 0.5),
      450,
    );
  });

  test('uses Math.random by default and spreads the delays', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(6)));
    assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  });
});
