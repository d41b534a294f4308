import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, Pacer } from '../../src/index.ts';

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
