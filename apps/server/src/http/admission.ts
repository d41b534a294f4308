import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';

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

  const refuse = (
    request: FastifyRequest,
    key: string,
    refusal: Refusal,
    headers: Record<string, string> = {},
  ): never => {
    app.stats.refusedRequests += 1;
    request.refused = true;
    refusals.count(key);
    throw new HttpError(refusal.code, refusal.message, {
      'retry-after': String(refusal.retryAfterSeconds),
      ...headers,
    });
  };

  return async (request) => {
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
      if (refusal !== undefined) refuse(request, key, refusal);
    } else if (METERED_PREFIXES.some((prefix) => path.startsWith(prefix))) {
      const key = app.limits.keyOf(request.ip);
      const refusal = app.limits.httpRefusal(key);
      // A keep-alive connection that keeps asking is closed: asking again costs a new connection.
      if (refusal !== undefined) refuse(request, key, refusal, { connection: 'close' });
    }
  };
}
