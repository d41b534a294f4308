import type { FastifyBaseLogger } from 'fastify';
import type { ChatEngine, EngineOptions } from './engine.ts';
import { MemoryEngine } from './memory-engine.ts';
import { RedisEngine } from './redis-engine.ts';

/**
 * Makes the engine: Redis when a URL is given, memory otherwise.
 *
 * @param redisUrl REDIS_URL, or undefined for the in-memory engine.
 * @param options The engine's own settings.
 * @param log Where the engine reports connection changes.
 * @returns A connected (or connecting) engine.
 */
export async function createEngine(
  redisUrl: string | undefined,
  options: EngineOptions,
  log: FastifyBaseLogger,
): Promise<ChatEngine> {
  if (redisUrl === undefined) {
    log.warn(
      'REDIS_URL is not set: using the in-memory engine. Rooms are not shared between instances; set REDIS_URL to scale out.',
    );
    return new MemoryEngine(options);
  }
  const engine = new RedisEngine(redisUrl, options, log);
  await engine.connect();
  return engine;
}
