import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyRequest,
  type FastifyServerOptions,
  type RouteOptions,
} from 'fastify';
import type { Config } from './config.ts';
import { admission } from './http/admission.ts';
import { handleErrors, notFound } from './http/http-error.ts';
import { shedAtAccept } from './http/shed-at-accept.ts';
import cors from './plugins/cors.ts';
import engine from './plugins/engine.ts';
import identity from './plugins/identity.ts';
import limits from './plugins/limits.ts';
import roomHub from './plugins/room-hub.ts';
import securityHeaders from './plugins/security-headers.ts';
import stats from './plugins/stats.ts';
import websocket from './plugins/websocket.ts';
import chatSocketRoutes from './routes/chat-socket.ts';
import operator from './plugins/operator.ts';
import adminApi from './routes/admin-api.ts';
import botApi from './routes/bot-api.ts';
import healthRoutes from './routes/health.ts';
import metricsRoutes from './routes/metrics.ts';
import openApiRoute from './routes/openapi.ts';
import roomsApi from './routes/rooms-api.ts';
import spa from './routes/spa.ts';

/** Options for tests and embedding; production passes none. */
export interface BuildOptions {
  /** Fastify logger options; defaults to JSON lines at the configured level. */
  logger?: FastifyServerOptions['logger'];
  /** Called with every route as it is registered (the OpenAPI tests list them). */
  onRoute?: (route: RouteOptions) => void;
}

/**
 * Builds the Parley app: every plugin registered and ready, not yet listening.
 *
 * @param config The parsed configuration (see loadConfig).
 * @param options Logger override for tests.
 * @returns The ready Fastify instance; call listen() to serve, close() to release Redis and sockets.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: withRequestSerializer(options.logger ?? { level: config.logLevel }),
    // Room names of 100 multi-byte characters are ~1,200 characters once percent-encoded.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1500 },
    // Behind a reverse proxy, the client address (for per-address limits) comes from X-Forwarded-For.
    trustProxy: config.trustProxy,
    // Timeouts so a stalled HTTP client cannot hold a connection forever: idle sockets, whole
    // requests, and (checked every second) requests that trickle their headers in (slowloris;
    // upgrade requests included, which count toward no connection cap until they upgrade).
    connectionTimeout: 30_000,
    requestTimeout: 30_000,
    keepAliveTimeout: 10_000,
    http: { headersTimeout: config.headersTimeoutMs, connectionsCheckingInterval: 1000 },
    // One line per request, written below (Fastify's own are two, and would log refusals too).
    logController: new LogController({ disableRequestLogging: true }),
  });
  if (options.onRoute !== undefined) app.addHook('onRoute', options.onRoute);
  // TCP connections of every kind, so half-open requests cannot use up file descriptors.
  if (config.maxTcpConnections > 0) app.server.maxConnections = config.maxTcpConnections;
  warnAboutUntrustedProxy(app, config);

  // One error handler for every route: coded answers, nothing internal revealed.
  handleErrors(app);
  app.addHook('onResponse', async (request, reply) => {
    if (request.refused) return;
    request.log.info({ req: request, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });

  // Order matters. WebSocket support first: its own hook must see every upgrade request, even
  // one refused next. Then the admission hook, which refuses what an address may not do now
  // before anything else runs; then the other third-party plugins, then our own decorators
  // (each declares what it depends on), then routes. The sockets close before the engine's
  // Redis connections (onClose hooks run in registration order).
  await app.register(websocket, { config });
  app.addHook('onRequest', admission(app, config));
  // An upgraded request never reaches onResponse (the socket is handed over), so admitted
  // upgrades are logged here, once each; refusals are summed up by the admission hook.
  app.addHook('onRequest', async (request) => {
    if (request.headers.upgrade !== undefined) request.log.info({ req: request }, 'websocket upgrade');
  });
  await app.register(securityHeaders, { config });
  await app.register(cors, { config });
  await app.register(stats);
  await app.register(engine, { config });
  await app.register(limits, { config });
  shedAtAccept(app, config);
  await app.register(roomHub, { config });
  await app.register(identity, { config });
  await app.register(operator, { config });

  await app.register(healthRoutes);
  await app.register(metricsRoutes, { token: config.metricsToken });
  await app.register(chatSocketRoutes, { config });
  await app.register(roomsApi, { config });
  await app.register(botApi, { config });
  await app.register(openApiRoute);
  // The operator's API exists only with ADMIN_TOKEN set (without it, its paths are 404s).
  if (config.adminToken !== undefined) await app.register(adminApi, { token: config.adminToken, config });

  if (config.webDistDir !== undefined) {
    await app.register(spa, { root: config.webDistDir });
  } else {
    app.get('/', async () => ({
      name: 'parley',
      message: 'Parley chat server. WebSocket rooms at /ws/chat/<room>/; the web app is deployed separately.',
    }));
    app.setNotFoundHandler((request) => {
      throw notFound(request.method, request.url);
    });
  }

  await app.ready();
  return app;
}

/** Adds {@link requestForLog} to logger options (a ready-made logger instance is left as it is). */
function withRequestSerializer(logger: NonNullable<FastifyServerOptions['logger']>): FastifyServerOptions['logger'] {
  if (typeof logger !== 'object') return logger;
  return { ...logger, serializers: { ...logger.serializers, req: requestForLog } };
}

/**
 * What a request's log lines say about it: the path without its query string (old clients put
 * their identity token there), never the query itself.
 */
function requestForLog(request: FastifyRequest) {
  return {
    method: request.method,
    url: request.url.split('?')[0],
    hostname: request.hostname,
    remoteAddress: request.ip,
  };
}

/**
 * Per-address limits count the proxy's address for everyone when the server sits behind a proxy
 * it does not trust: say so, once, the first time a request shows the signs of it.
 */
function warnAboutUntrustedProxy(app: FastifyInstance, config: Config): void {
  if (config.trustProxy !== false) return;
  let warned = false;
  app.addHook('onRequest', async (request) => {
    if (warned || request.headers['x-forwarded-for'] === undefined) return;
    warned = true;
    request.log.warn(
      'requests carry X-Forwarded-For but TRUST_PROXY is off: every client behind the proxy shares one per-address budget; set TRUST_PROXY to the number of proxies in front of the server',
    );
  });
}
