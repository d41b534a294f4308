import type { FastifyInstance, onRequestHookHandler } from 'fastify';

/**
 * An `onRequest` hook that charges each request to its address's HTTP allowance
 * (HTTP_RATE_PER_IP) and answers 429 with Retry-After when it is used up. Registered by the
 * routes that do real work per request (the API, readiness and metrics, which ask the engine);
 * static files and /healthz cost next to nothing and stay unmetered.
 */
export function httpRateHook(fastify: FastifyInstance): onRequestHookHandler {
  return async (request, reply) => {
    const refusal = fastify.limits.httpRefusal(fastify.limits.keyOf(request.ip));
    if (refusal === undefined) return;
    fastify.stats.refusedRequests += 1;
    return reply.code(refusal.status).header('retry-after', String(refusal.retryAfterSeconds)).send({ error: refusal.code, message: refusal.message });
  };
}
