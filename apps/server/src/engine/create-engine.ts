import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config.ts';
import type { ChatEngine, EngineOptions } from './engine.ts';
import { MemoryEngine } from './memory-engine.ts';
import { RedisEngine } from './redis-engine.ts';

/**
 * Picks the engine from the configuration: Redis when REDIS_URL is set, memory otherwise.
 *
 * @param config The server configuration.
 * @param log Where the engine reports connection changes.
 * @returns A connected (or connecting) engine.
 */
export async function createEngine(config: Config, log: FastifyBaseLogger): Promise<ChatEngine> {
  const options: EngineOptions = {
    historyLength: config.historyLength,
    historyBudgetBytes: config.memoryHistoryBudgetBytes,
    roomIndexSize: config.roomIndexSize,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    roomTtlMs: config.roomTtlSeconds * 1000,
    presenceTtlMs: config.presenceTtlSeconds * 1000,
    activeWindowMs: 60 * 60 * 1000,
  };
  if (config.redisUrl === undefined) {
    log.warn('REDIS_URL is not set: using the in-memory engine. Rooms are not shared between instances; set REDIS_URL to scale out.');
    return new MemoryEngine(options);
  }
  const engine = new RedisEngine(config.redisUrl, options, log);
  await engine.connect();
  return engine;
}
