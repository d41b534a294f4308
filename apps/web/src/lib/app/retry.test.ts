import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { abortableSleep, retryDelay, withRetry } from './retry.ts';
import { ApiError } from './rooms-api.ts';

const tooMany = (retryAfterMs?: number) => new ApiError('The server refused: Too many requests.', 429, retryAfterMs);

describe('retryDelay', () => {
  test('a 429 waits as long as Retry-After says, within a bound', () => {
    assert.equal(retryDelay(tooMany(3_000), 0), 3_000);
    assert.equal(retryDelay(tooMany(0), 0), 0);
    assert.equal(retryDelay(tooMany(120_000), 0), undefined, 'too long: fail rather than hang');
    assert.equal(retryDelay(tooMany(120_000), 0, { maxWaitMs: 200_000 }), 120_000);
  });

  test('a 429 without Retry-After, a 5xx or no answer wait a jittered backoff of a second or more', () => {
    for (const error of [tooMany(), new ApiError('x', 503), new ApiError('x', null)]) {
      const wait = retryDelay(error, 0, { random: () => 0 });
      assert.equal(wait, 1_000);
      assert.ok((retryDelay(error, 3, { random: () => 0.99 }) ?? 0) > 5_000);
    }
  });

  test('anything else is not tried again', () => {
    assert.equal(retryDelay(new ApiError('x', 400), 0), undefined);
    assert.equal(retryDelay(new ApiError('x', 404), 0), undefined);
    assert.equal(retryDelay(new Error('does not understand'), 0), undefined);
  });
});

describe('withRetry', () => {
  test('waits and tries again until it succeeds', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw tooMany(2_000);
        return 'page';
      },
      { attempts: 5, sleep: async (ms) => void waits.push(ms) },
    );
    assert.equal(result, 'page');
    assert.deepEqual(waits, [2_000, 2_000]);
  });

  test('gives up after the attempts allowed, with the last error', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new ApiError(`try ${calls}`, 503);
        },
        { attempts: 3, sleep: async () => {} },
      ),
      /try 3/,
    );
    assert.equal(calls, 3);
  });

  test('does not try again what cannot change', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        async () => {
          calls++;
          throw new ApiError('bad', 400);
        },
        { attempts: 5, sleep: async () => {} },
      ),
    );
    assert.equal(calls, 1);
  });

  test('an abort ends the wait at once', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = abortableSleep(10_000, controller.signal);
    controller.abort();
    await assert.rejects(waiting, { name: 'AbortError' });
    assert.ok(Date.now() - started < 1_000);
    await abortableSleep(1);
  });
});
