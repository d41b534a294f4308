import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Paths that belong to the API, never to the web app, even when nothing matches them. */
const API_PREFIXES = ['/ws/', '/api/', '/healthz', '/readyz'];

/**
 * Serves the built web app: hashed assets cached for a year, and index.html (never cached) for
 * every other GET, so deep links and reloads of `/chat/<room>/` reach the client-side router.
 *
 * @param fastify The app.
 * @param root The web app's build directory.
 */
export async function registerSpa(fastify: FastifyInstance, root: string): Promise<void> {
  await fastify.register(fastifyStatic, {
    root,
    wildcard: false,
    index: false,
    setHeaders(reply, path) {
      // Vite puts content-hashed files under assets/; everything else may change between deploys.
      reply.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  fastify.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const isPage = (request.method === 'GET' || request.method === 'HEAD') && !API_PREFIXES.some((p) => path.startsWith(p));
    if (isPage) return reply.header('cache-control', 'no-cache').sendFile('index.html');
    return reply.code(404).send({ error: 'not_found', message: `No route for ${request.method} ${path}` });
  });
}
