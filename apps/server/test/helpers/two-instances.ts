import type { TestContext } from 'node:test';
import { startApp, type RunningApp } from './app.ts';
import { TestRedisCluster } from './redis-cluster.ts';
import { TestRedis } from './redis-server.ts';

/** Two app instances, A and B, sharing one Redis (or Redis Cluster). */
export interface TwoApps {
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
): Promise<TwoApps & { redis: TestRedis }> {
  const redis = await TestRedis.start(options);
  return { redis, ...(await startTwo(t, redis, { REDIS_URL: redis.url, ...env })) };
}

/** A fresh 6-node Redis Cluster and two apps on it (A and B); with `t`, all stopped when it ends. */
export async function startTwoInstancesOnCluster(
  t: TestContext | undefined,
  env: Record<string, string | undefined> = {},
): Promise<TwoApps & { cluster: TestRedisCluster }> {
  const cluster = await TestRedisCluster.start();
  return { cluster, ...(await startTwo(t, cluster, { REDIS_CLUSTER_NODES: cluster.seeds, ...env })) };
}

/** Starts A and B on a started server; without `t`, what started is stopped again if one fails to. */
async function startTwo(
  t: TestContext | undefined,
  server: { stop(): Promise<void> },
  env: Record<string, string | undefined>,
): Promise<TwoApps> {
  t?.after(() => server.stop());
  const apps: RunningApp[] = [];
  const stop = async () => {
    for (const { app } of apps) await app.close();
    await server.stop();
  };
  try {
    for (let i = 0; i < 2; i++) apps.push(await startApp(t, env));
  } catch (err) {
    if (t === undefined) await stop();
    throw err;
  }
  return { a: apps[0]!, b: apps[1]!, stop };
}
