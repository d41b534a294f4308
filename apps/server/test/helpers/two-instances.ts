import type { TestContext } from 'node:test';
import { startApp, type RunningApp } from './app.ts';
import { TestRedis } from './redis-server.ts';

/** A fresh Redis and two app instances sharing it, A and B. */
export interface TwoInstances {
  redis: TestRedis;
  a: RunningApp;
  b: RunningApp;
  /** Closes A, then B, then stops Redis: for a suite's `after` (with a test context, its hooks do it). */
  stop(): Promise<void>;
}

/** A fresh Redis and two apps on it (A and B) for tests across instances; with `t`, all stopped when it ends. */
export async function startTwoInstances(
  t: TestContext | undefined,
  env: Record<string, string | undefined> = {},
  options: { persistent?: boolean } = {},
): Promise<TwoInstances> {
  const redis = await TestRedis.start(options);
  t?.after(() => redis.stop());
  const a = await startApp(t, { REDIS_URL: redis.url, ...env });
  const b = await startApp(t, { REDIS_URL: redis.url, ...env });
  return {
    redis,
    a,
    b,
    async stop() {
      await a.app.close();
      await b.app.close();
      await redis.stop();
    },
  };
}
