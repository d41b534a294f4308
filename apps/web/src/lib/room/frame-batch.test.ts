import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameBatch, type Scheduler } from './frame-batch.ts';

/** A scheduler the test runs by hand. */
function manual(): { schedule: Scheduler; run: () => void; pending: () => number } {
  let queued: (() => void)[] = [];
  return {
    schedule: (run) => {
      queued.push(run);
      return () => (queued = queued.filter((r) => r !== run));
    },
    run: () => {
      const now = queued;
      queued = [];
      for (const run of now) run();
    },
    pending: () => queued.length,
  };
}

describe('FrameBatch', () => {
  test('applies everything pushed before the scheduled time once, in order', () => {
    const clock = manual();
    const batches: number[][] = [];
    const batch = new FrameBatch<number>((items) => batches.push([...items]), clock.schedule);
    for (let i = 0; i < 2_000; i++) batch.push(i);
    assert.equal(clock.pending(), 1, 'one scheduled run for the whole burst');
    assert.equal(batches.length, 0);
    clock.run();
    assert.equal(batches.length, 1);
    assert.equal(batches[0]?.length, 2_000);
    assert.equal(batches[0]?.[1_999], 1_999);
    batch.push(7);
    clock.run();
    assert.deepEqual(batches[1], [7]);
  });

  test('flush applies now and cancels the scheduled run; clear forgets', () => {
    const clock = manual();
    const batches: number[][] = [];
    const batch = new FrameBatch<number>((items) => batches.push([...items]), clock.schedule);
    batch.push(1);
    batch.flush();
    assert.deepEqual([...batches], [[1]]);
    assert.equal(clock.pending(), 0);
    batch.flush();
    assert.equal(batches.length, 1, 'nothing to apply');
    batch.push(2);
    batch.clear();
    clock.run();
    assert.equal(batches.length, 1);
  });
});
