import type { FastifyInstance, onRequestHookHandler } from 'fastify';
import { HttpError } from './http-error.ts';

/**
 * An `onRequest` hook that charges each request to its address's HTTP allowance
 * (HTTP_RATE_PER_IP) and refuses it (429, Retry-After) when that is used up. Registered by the
 * routes that do real work per request (the API, readiness and metrics, which ask the engine);
 * static files and /healthz cost next to nothing and stay unmetered.
 */
export function httpRateHook(fastify: FastifyInstance): onRequestHookHandler {
  return async (request) => {
    const refusal = fastify.limits.httpRefusal(fastify.limits.keyOf(request.ip));
    if (refusal === undefined) return;
    fastify.stats.refusedRequests += 1;
    throw new HttpError(refusal.code, refusal.message, { 'retry-after': String(refusal.retryAfterSeconds) });
  };
}
