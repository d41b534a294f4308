import type { FastifyPluginAsync } from 'fastify';

/** Liveness (/healthz: the process answers) and readiness (/readyz: it can carry messages). */
const healthRoutes: FastifyPluginAsync = async (fastify) => {
  fastify.get('/healthz', async () => ({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }));

  // Readiness asks the engine (a Redis PING): metered like the API (http/admission.ts).
  fastify.get('/readyz', async (_request, reply) => {
    const health = await fastify.engine.health();
    reply.code(health.ok ? 200 : 503);
    return { status: health.ok ? 'ready' : 'unready', engine: fastify.engine.kind, detail: health.detail };
  });
};

export default healthRoutes;
