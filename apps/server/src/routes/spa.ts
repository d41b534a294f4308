import fp from 'fastify-plugin';
import fastifyStatic from '@fastify/static';
import { notFound } from '../http/http-error.ts';

/** Paths that belong to the API, never to the web app, even when nothing matches them. */
const API_PREFIXES = ['/ws/', '/api/', '/healthz', '/readyz', '/metrics'];

/**
 * Serves the built web app: hashed assets cached for a year, and index.html (never cached) for
 * every other GET, so deep links and reloads of `/chat/<room>/` reach the client-side router.
 */
export default fp<{ root: string }>(
  async (fastify, { root }) => {
    await fastify.register(fastifyStatic, {
      root,
      wildcard: false,
      index: false,
      setHeaders(reply, path) {
        // Vite puts content-hashed files under assets/; everything else may change between deploys.
        reply.header(
          'cache-control',
          /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    });

    fastify.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? '';
      const isPage =
        (request.method === 'GET' || request.method === 'HEAD') && !API_PREFIXES.some((p) => path.startsWith(p));
      if (isPage) return reply.header('cache-control', 'no-cache').sendFile('index.html');
      throw notFound(request.method, request.url);
    });
  },
  { name: 'parley-spa' },
);
