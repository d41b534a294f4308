import { LIMITS } from '@parley/protocol';
import fp from 'fastify-plugin';
import type { Config } from '../config.ts';
import { createEngine } from '../engine/create-engine.ts';
import type { ChatEngine, EngineOptions } from '../engine/engine.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** The message bus, log and presence (memory or Redis). */
    engine: ChatEngine;
  }
}

/** The engine's own settings, from the server's configuration. */
function engineOptionsOf(config: Config): EngineOptions {
  return {
    historyLength: config.historyLength,
    historyBudgetBytes: config.memoryHistoryBudgetBytes,
    roomIndexSize: config.roomIndexSize,
    commandTimeoutMs: config.redisCommandTimeoutMs,
    roomTtlMs: config.roomTtlSeconds * 1000,
    presenceTtlMs: config.presenceTtlSeconds * 1000,
    activeWindowMs: 60 * 60 * 1000,
    editWindowMs: config.editWindowSeconds * 1000,
    maxReactionEmoji: LIMITS.maxReactionEmoji,
    maxReactionsPerMessage: config.reactionsPerMessageMax,
    waitReplicas: config.redisWaitReplicas,
    waitTimeoutMs: config.redisWaitTimeoutMs,
    admittedMax: config.roomAdmittedMax,
  };
}

/**
 * The engine the configuration picks (Redis when REDIS_URL is set). Closed when the app closes;
 * registered after @fastify/websocket, so the sockets are closed before it.
 */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    const target =
      config.redisClusterNodes !== undefined
        ? { clusterNodes: config.redisClusterNodes }
        : config.redisUrl !== undefined
          ? { url: config.redisUrl }
          : undefined;
    const engine = await createEngine(target, engineOptionsOf(config), fastify.log);
    fastify.decorate('engine', engine);
    fastify.addHook('onClose', () => engine.close());
  },
  { name: 'parley-engine' },
);
