import { createHash } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { OPENAPI_PATH } from '@parley/protocol';
import { openApiDocument } from '../http/openapi-document.ts';

/**
 * `GET /api/openapi.json`: the HTTP API as an OpenAPI 3.1 document. It is the same for every
 * deployment and holds no secrets, so it is built and encoded once, cached by anyone for an
 * hour (revalidated by its ETag) and readable from any origin (API viewers, client generators).
 */
const openApiRoute: FastifyPluginAsync = async (fastify) => {
  const json = JSON.stringify(openApiDocument());
  const etag = `"${createHash('sha256').update(json).digest('base64url').slice(0, 22)}"`;
  fastify.get(OPENAPI_PATH, async (request, reply) => {
    reply
      .header('cache-control', 'public, max-age=3600')
      .header('etag', etag)
      .header('access-control-allow-origin', '*');
    const known = request.headers['if-none-match']?.split(',').map((tag) => tag.trim().replace(/^W\//, ''));
    if (known?.some((tag) => tag === etag || tag === '*')) return reply.code(304).send();
    return reply.type('application/json; charset=utf-8').send(json);
  });
};

export default openApiRoute;
