import type { FastifyBaseLogger } from 'fastify';
import type { ChatEngine, EngineOptions } from './engine.ts';
import { MemoryEngine } from './memory-engine.ts';
import { RedisEngine, type RedisTarget } from './redis-engine.ts';

/**
 * Makes the engine: Redis (one server or a cluster) when a target is given, memory otherwise.
 *
 * @param target REDIS_URL or REDIS_CLUSTER_NODES, or undefined for the in-memory engine.
 * @param options The engine's own settings.
 * @param log Where the engine reports connection changes.
 * @returns A connected (or connecting) engine.
 */
export async function createEngine(
  target: RedisTarget | undefined,
  options: EngineOptions,
  log: FastifyBaseLogger,
): Promise<ChatEngine> {
  if (target === undefined) {
    log.warn(
      'REDIS_URL is not set: using the in-memory engine. Rooms are not shared between instances; set REDIS_URL to scale out.',
    );
    return new MemoryEngine(options);
  }
  const engine = new RedisEngine(target, options, log);
  await engine.connect();
  return engine;
}
