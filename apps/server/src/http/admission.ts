import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { HTTP_ERROR_CODES, type HttpErrorBody } from '@parley/protocol';

declare module 'fastify' {
  interface FastifyRequest {
    /** Refused by a per-address or total limit (counted, not logged one by one). */
    refused: boolean;
  }
}
import type { Config } from '../config.ts';
import type { Refusal } from '../limits/client-limits.ts';
import { HttpError } from './http-error.ts';
import { isOriginAllowed } from './origin-policy.ts';
import { RefusalLog } from './refusal-log.ts';

/** Routes that ask the engine on every request, metered by the HTTP allowance. */
const METERED_PREFIXES = ['/api/', '/readyz', '/metrics'];

/**
 * The first hook of every request, registered before any other plugin: what an address may not
 * do now is refused before security headers, CORS or routing cost anything (a flood of
 * refusals then costs as little as a request can). WebSocket upgrades: the origin policy, the
 * connection caps and the connection rate; the engine-backed HTTP routes: the HTTP rate. Static
 * files and /healthz cost next to nothing and stay unmetered. Refusals are answered 429/503 with
 * Retry-After (HTTP ones with `Connection: close` too), and counted (see RefusalLog), not logged
 * one by one.
 */
export function admission(app: FastifyInstance, config: Config): onRequestHookHandler {
  const refusals = new RefusalLog(app.log);
  app.decorateRequest('refused', false);
  app.addHook('onClose', async () => refusals.close());

  // A refusal is answered from the hook itself with a body encoded once per kind of refusal:
  // no error object, no error handler, no serialisation, for what a flood asks thousands of
  // times a second.
  const bodies = new Map<string, string>();
  const refuse = (request: FastifyRequest, reply: FastifyReply, key: string, refusal: Refusal, close: boolean) => {
    app.stats.refusedRequests += 1;
    request.refused = true;
    refusals.count(key);
    app.limits.noteRefusal(key);
    let body = bodies.get(refusal.message);
    if (body === undefined) {
      body = JSON.stringify({ error: refusal.code, message: refusal.message } satisfies HttpErrorBody);
      if (bodies.size < 64) bodies.set(refusal.message, body);
    }
    reply.code(HTTP_ERROR_CODES[refusal.code]).header('retry-after', String(refusal.retryAfterSeconds));
    if (close) reply.header('connection', 'close');
    return reply.type('application/json; charset=utf-8').send(body);
  };

  return async (request, reply) => {
    const path = request.url;
    if (path.startsWith('/ws/')) {
      if (!isOriginAllowed(request.headers.origin, request.headers.host, config.allowedOrigins, config.publicOrigins)) {
        throw new HttpError(
          'origin_not_allowed',
          `Origin ${request.headers.origin} may not use this server; add it to ALLOWED_ORIGINS.`,
        );
      }
      const key = app.limits.keyOf(request.ip);
      const refusal = app.limits.refusal(key);
      if (refusal !== undefined) return refuse(request, reply, key, refusal, false);
    } else if (METERED_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      const key = app.limits.keyOf(request.ip);
      const refusal = app.limits.httpRefusal(key);
      // A keep-alive connection that keeps asking is closed: asking again costs a new connection.
      if (refusal !== undefined) return refuse(request, reply, key, refusal, true);
    }
  };
}
