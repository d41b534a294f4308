import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, Pacer, RECONNECT_BACKOFF } from '../../src/index.ts';

const bounds = { minMs: 500, maxMs: 10_000 };

test('backoff: never below the minimum, the window doubles, capped at the maximum', () => {
  assert.equal(
    backoffDelay(0, bounds, () => 0),
    500,
  );
  // Attempt 0 spreads over [500, 1000), attempt 1 over [500, 2000), attempt 2 over [500, 4000)…
  assert.equal(
    backoffDelay(0, bounds, () => 0.999),
    999,
  );
  assert.equal(
    backoffDelay(1, bounds, () => 0.999),
    1_998,
  );
  assert.equal(
    backoffDelay(2, bounds, () => 0.999),
    3_996,
  );
  // The window stops growing at the maximum.
  assert.equal(
    backoffDelay(50, bounds, () => 0.999),
    9_990,
  );
  assert.equal(
    backoffDelay(50, bounds, () => 0),
    500,
  );
  assert.equal(
    backoffDelay(Number.NaN, bounds, () => 0),
    500,
  );
});

test('backoff: jittered, so clients do not come back in lock-step', () => {
  const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(3, bounds)));
  assert.ok(delays.size > 10, `${delays.size} distinct delays`);
  for (const delay of delays) assert.ok(delay >= 500 && delay <= 8_000);
});

test('backoff: within [min, max] for any attempt and any random value; reconnect bounds by default', () => {
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const r of [0, 0.001, 0.25, 0.5, 0.999999]) {
      const delay = backoffDelay(attempt, undefined, () => r);
      assert.ok(delay >= RECONNECT_BACKOFF.minMs, `attempt ${attempt}, r ${r}: ${delay}`);
      assert.ok(delay <= RECONNECT_BACKOFF.maxMs, `attempt ${attempt}, r ${r}: ${delay}`);
    }
  }
  assert.deepEqual(RECONNECT_BACKOFF, bounds);
});

test('backoff: the window doubles with every attempt until it reaches the maximum', () => {
  const options = { minMs: 100, maxMs: 1_000 };
  const top = () => 0.999999;
  assert.deepEqual(
    [0, 1, 2, 3, 40].map((attempt) => backoffDelay(attempt, options, top)),
    [199, 399, 799, 999, 999],
  );
});

test('backoff: jittered from the first retry on, never below the minimum', () => {
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
  // Math.random by default: the first retry and a later one are both spread.
  for (const attempt of [0, 6]) {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(attempt)));
    assert.ok(delays.size > 10, `attempt ${attempt} took only ${delays.size} distinct delays`);
  }
});

test('backoff: odd attempt numbers (negative, infinite, NaN, fractional) are tolerated', () => {
  const half = () => 0.5;
  assert.equal(backoffDelay(-3, bounds, half), 750);
  assert.equal(backoffDelay(Number.POSITIVE_INFINITY, bounds, half), 5_250);
  assert.equal(backoffDelay(Number.NaN, bounds, half), 750);
  assert.equal(backoffDelay(2.7, { minMs: 100, maxMs: 10_000 }, half), 450);
});

test('pacer: a burst goes at once, then one frame per 1/rate', () => {
  const pacer = new Pacer({ perSecond: 10, burst: 3 }, 0);
  assert.deepEqual([pacer.tryTake(0), pacer.tryTake(0), pacer.tryTake(0), pacer.tryTake(0)], [true, true, true, false]);
  assert.equal(pacer.nextAt(0), 100);
  assert.equal(pacer.tryTake(50), false);
  assert.equal(pacer.tryTake(150), true);
  // A quiet spell refills up to the burst, not beyond.
  assert.equal(pacer.nextAt(10_000), 10_000);
  let taken = 0;
  while (pacer.tryTake(10_000) && taken < 100) taken++;
  assert.equal(taken, 3);
});

test('pacer: a rate of 0 does not pace', () => {
  const pacer = new Pacer({ perSecond: 0, burst: 1 }, 0);
  for (let i = 0; i < 100; i++) assert.equal(pacer.tryTake(0), true);
});
