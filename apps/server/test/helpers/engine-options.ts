import Fastify, { type FastifyBaseLogger } from 'fastify';
import type { EngineOptions } from '../../src/engine/engine.ts';

/**
 * Engine options for tests that make an engine (or a room hub) directly instead of through the
 * app: small bounds, long expiries, no replicas. Each test overrides what it is about.
 */
export function testEngineOptions(overrides: Partial<EngineOptions> = {}): EngineOptions {
  return {
    historyLength: 100,
    historyBudgetBytes: 1 << 20,
    roomIndexSize: 1000,
    commandTimeoutMs: 2000,
    roomTtlMs: 24 * 3600_000,
    presenceTtlMs: 60_000,
    activeWindowMs: 3600_000,
    editWindowMs: 0,
    maxReactionEmoji: 20,
    maxReactionsPerMessage: 100,
    waitReplicas: 0,
    waitTimeoutMs: 1000,
    admittedMax: 10_000,
    ...overrides,
  };
}

/** A logger for an engine or hub made by a test (the app passes them its own), at TEST_LOG_LEVEL. */
export function testLogger(): FastifyBaseLogger {
  return Fastify({ logger: { level: process.env.TEST_LOG_LEVEL ?? 'silent' } }).log;
}
