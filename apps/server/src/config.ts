import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { MAX_BOTS, MAX_INSTANCE_BANS, WEBHOOK_EVENTS, type WebhookEventName } from '@parley/protocol';

/** Everything the server reads from its environment, parsed and checked once at start. */
export interface Config {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind; 0.0.0.0 so containers are reachable. */
  host: string;
  /** Redis URL; when absent the in-memory engine runs (one instance only). */
  redisUrl: string | undefined;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); set instead of redisUrl, never with it. */
  redisClusterNodes: Array<{ host: string; port: number }> | undefined;
  /** Replicas that must confirm a message or change (Redis WAIT) before it is acked; 0: none. */
  redisWaitReplicas: number;
  /** How long to wait for them before answering `unavailable`. */
  redisWaitTimeoutMs: number;
  /** Directory of the built web app to serve, or undefined to serve the API alone. */
  webDistDir: string | undefined;
  /** Origins besides the server's own that may open WebSockets and call the API ('*' for any). */
  allowedOrigins: string[];
  /** Pino log level. */
  logLevel: string;
  /** Largest WebSocket frame accepted, in bytes. */
  maxPayloadBytes: number;
  /** Largest chat message text accepted, in UTF-8 bytes. */
  maxTextBytes: number;
  /** Bytes queued for one socket before it is closed as a slow consumer. */
  sendBufferLimitBytes: number;
  /** Messages kept per room. */
  historyLength: number;
  /** Messages in the welcome's history and in a scroll-back page by default. */
  historyPageSize: number;
  /** How long after sending a message its author may edit it, in seconds (0: always). */
  editWindowSeconds: number;
  /** Reactions one message may carry in all (every person's every emoji). */
  reactionsPerMessageMax: number;
  /** A room with no activity for this long is forgotten. */
  roomTtlSeconds: number;
  /** People whose server stops refreshing their presence disappear after this long. */
  presenceTtlSeconds: number;
  /** Secret that signs identity tokens; when unset, instances share a random one through Redis. */
  identitySecret: string | undefined;
  /** Messages per second one connection may send on average (0: no limit), and its burst. */
  rateLimitPerConnection: number;
  rateBurstPerConnection: number;
  /** Messages per second all connections from one IP address may send together (0: no limit), and the burst. */
  rateLimitPerIp: number;
  rateBurstPerIp: number;
  /** Open WebSockets allowed in total and from one IP address (0: no limit). */
  maxConnections: number;
  maxConnectionsPerIp: number;
  /** Trust X-Forwarded-For from a reverse proxy for the client address (true, false, or a hop count/CIDR list). */
  trustProxy: boolean | string | ((address: string, hop: number) => boolean);
  /** On SIGTERM: sockets are closed spread over this long, so clients do not reconnect all at once. */
  drainMs: number;
  /** On SIGTERM: the process exits after this long even if work is still in flight. */
  shutdownTimeoutMs: number;
  /** Extra `connect-src` sources for the web app's Content Security Policy. */
  cspConnectSrc: string[];

  // ---- Bounds on what one client address (and everyone together) can make the server do ----
  /** New WebSockets one address may open per second on average (0: no limit), and its burst. */
  connectRatePerIp: number;
  connectBurstPerIp: number;
  /** HTTP API requests (/api/*) one address may make per second (0: no limit), and its burst. */
  httpRatePerIp: number;
  httpBurstPerIp: number;
  /** Frames one connection / one address may send per second, valid or not (0: no limit), and bursts. */
  frameRatePerConnection: number;
  frameBurstPerConnection: number;
  frameRatePerIp: number;
  frameBurstPerIp: number;
  /** A connection that sends more invalid frames than this within a minute is closed (1008). */
  invalidFramesMax: number;
  /** Frames a connection may send before its welcome; more closes it (1008). */
  setupFramesMax: number;
  /** An address whose connections were closed for breaking the rules (1008) this often in a minute (0: never)… */
  abuseClosesMax: number;
  /** …may open no connection for this long. */
  abuseCooldownSeconds: number;
  /**
   * Refusals of one address within a second after which its new TCP connections are answered
   * 429 as soon as they are accepted, for the rest of that second (0: never). Only without
   * TRUST_PROXY: behind a proxy the address is known only from the request.
   */
  shedAfterRefusals: number;
  /**
   * Of a shed address's connections, how many a second are answered the ready-made 429; the rest
   * of that second are closed unanswered as soon as accepted (0: answer every one).
   */
  shedAnswersPerSecond: number;
  /** A connection whose set-up (identity, subscription, welcome) takes longer is closed (1013). */
  setupTimeoutMs: number;
  /** A socket whose send buffer stays over SEND_BUFFER_LIMIT_BYTES this long is closed (4008). */
  slowConsumerGraceMs: number;
  /** Every socket is pinged this often; one that did not answer the previous ping is dropped. */
  pingIntervalMs: number;
  /** Messages in a `since` welcome at most; the client fetches the rest page by page. */
  recoveryPageSize: number;
  /** Members a welcome lists at most (with how many are present); the rest come from the member pages. */
  welcomeMembersMax: number;
  /** Above this many people present in a room, typing notices are not passed on. */
  typingMaxMembers: number;
  /** Above this many people present in a room, joins and leaves go out as a count at most once a second. */
  presenceCountOnlyMembers: number;
  /** Bytes of message history in one welcome or one history page at most. */
  historyPageMaxBytes: number;
  /** Bytes of history one address may be sent per second (welcomes and pages), and the burst (0: no limit). */
  historyBytesPerIp: number;
  historyBytesBurstPerIp: number;
  /** Messages one address may post per day, across rooms and instances (0: no quota). */
  messagesPerIpPerDay: number;
  /** Memory engine: bytes of history kept across all rooms; the rooms idle longest are forgotten first. */
  memoryHistoryBudgetBytes: number;
  /** Rooms with messages kept in the active-room index (the lobby list); occupied rooms always rank first. */
  roomIndexSize: number;
  /** IPv6 clients are grouped by this prefix length for per-address limits (an ISP hands out a /64, not one address). */
  ipv6PrefixBits: number;
  /** Upgrade and HTTP requests must send their headers within this long. */
  headersTimeoutMs: number;
  /** TCP connections the HTTP server accepts at once (WebSockets and HTTP; 0: no limit). */
  maxTcpConnections: number;
  /** Redis commands that get no answer within this long fail with `unavailable`. */
  redisCommandTimeoutMs: number;
  /** Identity tokens unused for this long stop working (each welcome issues a fresh one). */
  identityTokenTtlSeconds: number;
  /** The secret tokens were signed with before IDENTITY_SECRET was rotated; accepted until removed. */
  identitySecretPrevious: string | undefined;
  /** The origins users load the web app from; when set, the origin check compares scheme and host to these instead of Host. */
  publicOrigins: string[];
  /** When set, /metrics answers only requests with `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  /** When set, whoever presents it is the operator (`/api/admin/...`, the web app's /admin page); unset: no operator. */
  adminToken: string | undefined;
  /** Instance-wide bans kept at most (every instance holds them all in memory). */
  maxInstanceBans: number;
  /** Bots the operator may create. */
  maxBots: number;

  // ---- Integrations (integrations/) ----
  /** The before-publish hook, asked about each new message and edit before it is stored; unset: none. */
  beforePublishUrl: URL | undefined;
  /** Signs the hook's requests (required with the URL). */
  beforePublishSecret: string | undefined;
  /** A hook call not answered within this long has failed. */
  beforePublishTimeoutMs: number;
  /** Hook calls in flight at most; a message beyond them is not checked and counts as a failure. */
  beforePublishConcurrency: number;
  /** A message the hook could not judge is posted unchecked (`open`) or refused (`closed`). */
  beforePublishFailure: 'open' | 'closed';
  /** Where each event is POSTed (the operator's webhooks); empty: none. */
  webhookUrls: URL[];
  /** Signs every delivery (required with URLs). */
  webhookSecret: string | undefined;
  /** The events delivered. */
  webhookEvents: Set<WebhookEventName>;
  /** One attempt gets this long for its answer. */
  webhookTimeoutMs: number;
  /** Attempts per delivery at most (the first included). */
  webhookMaxAttempts: number;
  /** The first retry comes about this long after a failed attempt, each next one twice as late (at most a minute). */
  webhookRetryBaseMs: number;
  /** Deliveries waiting (or in flight, or waiting to retry) per instance at most; a new event beyond them is dropped. */
  webhookQueueMax: number;
  /** Deliveries in flight at once per instance. */
  webhookConcurrency: number;
  /** A delivery's body over this many bytes is dropped. */
  webhookMaxBodyBytes: number;
  /** Lets webhooks reach loopback, private and link-local addresses (refused otherwise). */
  webhookAllowPrivate: boolean;
  /** Rooms with a webhook of their owner's at most (on Redis: in the cluster); 0: owners cannot set one. */
  maxRoomWebhooks: number;
  /** Rooms' webhooks one client address (key, IPv6 by prefix) may have set at once (of MAX_ROOM_WEBHOOKS); 0: no share. */
  roomWebhooksPerAddress: number;
  /** People one invite-only room lets in with an invite at most; a newcomer past it is refused (`room_full`). */
  roomAdmittedMax: number;
  /** Room webhook deliveries one room may have held at once (of the room webhooks' own WEBHOOK_QUEUE_MAX). */
  roomWebhookQueuePerRoom: number;
  /** Lets rooms' webhooks reach loopback, private and link-local addresses (never by default: owners are anyone). */
  roomWebhookAllowPrivate: boolean;
  /** Bot-mention deliveries the messages of one address (key) may have held at once (of their queue's WEBHOOK_QUEUE_MAX); 0: no share. */
  botMentionQueuePerAddress: number;
}

/** Raised when the environment holds invalid values; lists every problem at once. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads the configuration from environment variables (see .env.example for each one).
 *
 * @param env Usually `process.env`.
 * @returns The parsed configuration.
 * @throws ConfigError naming every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const problems: string[] = [];
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return value;
  };

  const redisUrl = env.REDIS_URL?.trim() || undefined;
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    problems.push(`REDIS_URL must look like redis://host:6379 or rediss://host:6380, got "${redisUrl}"`);
  }

  const clusterSeeds = env.REDIS_CLUSTER_NODES?.trim() || undefined;
  let redisClusterNodes: Array<{ host: string; port: number }> | undefined;
  if (clusterSeeds !== undefined) {
    redisClusterNodes = [];
    for (const seed of clusterSeeds.split(/[\s,]+/).filter((part) => part !== '')) {
      const match = /^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(seed);
      const port = Number(match?.[2]);
      if (match === null || port < 1 || port > 65535) {
        problems.push(`REDIS_CLUSTER_NODES must be host:port pairs separated by commas, got "${seed}"`);
        continue;
      }
      redisClusterNodes.push({ host: match[1]!.replace(/^\[|\]$/g, ''), port });
    }
    if (redisUrl !== undefined)
      problems.push('Set REDIS_URL (one Redis) or REDIS_CLUSTER_NODES (a Redis Cluster), not both');
  }

  let webDistDir = env.WEB_DIST_DIR?.trim() || undefined;
  if (webDistDir !== undefined) {
    webDistDir = resolve(webDistDir);
    if (!existsSync(resolve(webDistDir, 'index.html'))) {
      problems.push(
        `WEB_DIST_DIR must be a built web app containing index.html; none in "${webDistDir}" (run the build first)`,
      );
    }
  }

  const origins = (name: string, allowStar: boolean): string[] => {
    const list = (env[name] ?? '')
      .split(',')
      .map((o) => o.trim().replace(/\/+$/, ''))
      .filter((o) => o !== '');
    for (const origin of list) {
      if (!(allowStar && origin === '*') && !/^https?:\/\/[^/\s]+$/.test(origin)) {
        problems.push(
          `${name} entries must be origins like https://chat.example.com${allowStar ? ' or *' : ''}, got "${origin}"`,
        );
      }
    }
    return list;
  };
  const allowedOrigins = origins('ALLOWED_ORIGINS', true);
  const publicOrigins = origins('PUBLIC_ORIGIN', false);

  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    redisUrl,
    redisClusterNodes,
    redisWaitReplicas: int('REDIS_WAIT_REPLICAS', 0, 0, 16),
    redisWaitTimeoutMs: int('REDIS_WAIT_TIMEOUT_MS', 500, 1, 60_000),
    webDistDir,
    allowedOrigins,
    logLevel,
    maxPayloadBytes: int('MAX_PAYLOAD_BYTES', 16 * 1024, 1024, 16 * 1024 * 1024),
    maxTextBytes: int('MAX_TEXT_BYTES', 4096, 1, 1024 * 1024),
    sendBufferLimitBytes: int('SEND_BUFFER_LIMIT_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    historyLength: int('HISTORY_LENGTH', 1000, 1, 1_000_000),
    historyPageSize: int('HISTORY_PAGE_SIZE', 50, 1, 500),
    editWindowSeconds: int('EDIT_WINDOW_SECONDS', 900, 0, 365 * 24 * 3600),
    reactionsPerMessageMax: int('REACTIONS_PER_MESSAGE_MAX', 200, 1, 100_000),
    roomTtlSeconds: int('ROOM_TTL_SECONDS', 7 * 24 * 3600, 1, 365 * 24 * 3600),
    presenceTtlSeconds: int('PRESENCE_TTL_SECONDS', 30, 1, 3600),
    identitySecret: env.IDENTITY_SECRET?.trim() || undefined,
    rateLimitPerConnection: int('RATE_LIMIT_PER_CONNECTION', 10, 0, 1_000_000),
    rateBurstPerConnection: int('RATE_BURST_PER_CONNECTION', 20, 1, 1_000_000),
    rateLimitPerIp: int('RATE_LIMIT_PER_IP', 50, 0, 1_000_000),
    rateBurstPerIp: int('RATE_BURST_PER_IP', 100, 1, 1_000_000),
    maxConnections: int('MAX_CONNECTIONS', 20_000, 0, 10_000_000),
    maxConnectionsPerIp: int('MAX_CONNECTIONS_PER_IP', 100, 0, 10_000_000),
    trustProxy: parseTrustProxy(env.TRUST_PROXY?.trim()),
    drainMs: int('DRAIN_MS', 3000, 0, 600_000),
    shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    cspConnectSrc: (env.CSP_CONNECT_SRC ?? '').split(/[\s,]+/).filter((source) => source !== ''),
    connectRatePerIp: int('CONNECT_RATE_PER_IP', 10, 0, 1_000_000),
    connectBurstPerIp: int('CONNECT_BURST_PER_IP', 20, 1, 1_000_000),
    httpRatePerIp: int('HTTP_RATE_PER_IP', 20, 0, 1_000_000),
    httpBurstPerIp: int('HTTP_BURST_PER_IP', 60, 1, 1_000_000),
    frameRatePerConnection: int('FRAME_RATE_PER_CONNECTION', 20, 0, 1_000_000),
    frameBurstPerConnection: int('FRAME_BURST_PER_CONNECTION', 40, 1, 1_000_000),
    frameRatePerIp: int('FRAME_RATE_PER_IP', 200, 0, 1_000_000),
    frameBurstPerIp: int('FRAME_BURST_PER_IP', 400, 1, 1_000_000),
    invalidFramesMax: int('INVALID_FRAMES_MAX', 10, 0, 1_000_000),
    setupFramesMax: int('SETUP_FRAMES_MAX', 16, 1, 10_000),
    abuseClosesMax: int('ABUSE_CLOSES_MAX', 3, 0, 1_000_000),
    abuseCooldownSeconds: int('ABUSE_COOLDOWN_SECONDS', 60, 1, 24 * 3600),
    shedAfterRefusals: int('SHED_AFTER_REFUSALS', 20, 0, 1_000_000),
    shedAnswersPerSecond: int('SHED_ANSWERS_PER_SECOND', 100, 0, 1_000_000),
    setupTimeoutMs: int('SETUP_TIMEOUT_MS', 10_000, 100, 600_000),
    slowConsumerGraceMs: int('SLOW_CONSUMER_GRACE_MS', 5000, 0, 600_000),
    pingIntervalMs: int('PING_INTERVAL_MS', 30_000, 1000, 600_000),
    recoveryPageSize: int('RECOVERY_PAGE_SIZE', 200, 1, 10_000),
    welcomeMembersMax: int('WELCOME_MEMBERS_MAX', 50, 1, 10_000),
    typingMaxMembers: int('TYPING_MAX_MEMBERS', 100, 0, 10_000_000),
    presenceCountOnlyMembers: int('PRESENCE_COUNT_ONLY_MEMBERS', 200, 0, 10_000_000),
    historyPageMaxBytes: 0, // derived below: at most half the send buffer by default
    messagesPerIpPerDay: int('MESSAGES_PER_IP_PER_DAY', 10_000, 0, 1_000_000_000),
    historyBytesPerIp: int('HISTORY_BYTES_PER_IP', 1024 * 1024, 0, 1024 * 1024 * 1024),
    historyBytesBurstPerIp: int('HISTORY_BYTES_BURST_PER_IP', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    memoryHistoryBudgetBytes: int(
      'MEMORY_HISTORY_BUDGET_BYTES',
      256 * 1024 * 1024,
      1024 * 1024,
      1024 * 1024 * 1024 * 1024,
    ),
    roomIndexSize: int('ROOM_INDEX_SIZE', 10_000, 10, 10_000_000),
    ipv6PrefixBits: int('IPV6_PREFIX_BITS', 64, 16, 128),
    headersTimeoutMs: int('HEADERS_TIMEOUT_MS', 10_000, 1000, 30_000),
    maxTcpConnections: 0, // derived below: MAX_TCP_CONNECTIONS, or MAX_CONNECTIONS plus room for HTTP
    redisCommandTimeoutMs: int('REDIS_COMMAND_TIMEOUT_MS', 3000, 100, 600_000),
    identityTokenTtlSeconds: int('IDENTITY_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 60, 10 * 365 * 24 * 3600),
    identitySecretPrevious: env.IDENTITY_SECRET_PREVIOUS?.trim() || undefined,
    publicOrigins,
    metricsToken: env.METRICS_TOKEN?.trim() || undefined,
    adminToken: env.ADMIN_TOKEN?.trim() || undefined,
    maxInstanceBans: int('MAX_INSTANCE_BANS', MAX_INSTANCE_BANS, 1, 1_000_000),
    maxBots: int('MAX_BOTS', MAX_BOTS, 1, 100_000),
    beforePublishUrl: httpUrl('BEFORE_PUBLISH_URL', env.BEFORE_PUBLISH_URL, problems),
    beforePublishSecret: env.BEFORE_PUBLISH_SECRET?.trim() || undefined,
    beforePublishTimeoutMs: int('BEFORE_PUBLISH_TIMEOUT_MS', 2000, 50, 60_000),
    beforePublishConcurrency: int('BEFORE_PUBLISH_CONCURRENCY', 64, 1, 10_000),
    beforePublishFailure: oneOf('BEFORE_PUBLISH_FAILURE', env.BEFORE_PUBLISH_FAILURE, ['open', 'closed'], problems),
    webhookUrls: (env.WEBHOOK_URLS ?? '')
      .split(/[\s,]+/)
      .filter((url) => url !== '')
      .flatMap((url) => httpUrl('WEBHOOK_URLS', url, problems) ?? []),
    webhookSecret: env.WEBHOOK_SECRET?.trim() || undefined,
    webhookEvents: webhookEvents(env.WEBHOOK_EVENTS, problems),
    webhookTimeoutMs: int('WEBHOOK_TIMEOUT_MS', 5000, 50, 60_000),
    webhookMaxAttempts: int('WEBHOOK_MAX_ATTEMPTS', 5, 1, 20),
    webhookRetryBaseMs: int('WEBHOOK_RETRY_BASE_MS', 1000, 10, 600_000),
    webhookQueueMax: int('WEBHOOK_QUEUE_MAX', 10_000, 1, 1_000_000),
    webhookConcurrency: int('WEBHOOK_CONCURRENCY', 8, 1, 1000),
    webhookMaxBodyBytes: int('WEBHOOK_MAX_BODY_BYTES', 64 * 1024, 1024, 16 * 1024 * 1024),
    webhookAllowPrivate: oneOf('WEBHOOK_ALLOW_PRIVATE', env.WEBHOOK_ALLOW_PRIVATE, ['0', '1'], problems) === '1',
    maxRoomWebhooks: int('MAX_ROOM_WEBHOOKS', 1000, 0, 1_000_000),
    roomWebhooksPerAddress: int('ROOM_WEBHOOKS_PER_ADDRESS', 5, 0, 1_000_000),
    roomAdmittedMax: int('ROOM_ADMITTED_MAX', 10_000, 1, 1_000_000),
    roomWebhookQueuePerRoom: int('ROOM_WEBHOOK_QUEUE_PER_ROOM', 100, 1, 1_000_000),
    roomWebhookAllowPrivate:
      oneOf('ROOM_WEBHOOK_ALLOW_PRIVATE', env.ROOM_WEBHOOK_ALLOW_PRIVATE, ['0', '1'], problems) === '1',
    botMentionQueuePerAddress: int('BOT_MENTION_QUEUE_PER_ADDRESS', 100, 0, 1_000_000),
  };
  // A welcome must fit in what one socket may have queued, with room to spare for what follows it.
  const sendBuffer = config.sendBufferLimitBytes;
  config.historyPageMaxBytes = int(
    'HISTORY_PAGE_MAX_BYTES',
    Math.min(256 * 1024, Math.floor(sendBuffer / 2)),
    8 * 1024,
    64 * 1024 * 1024,
  );
  // Beyond the WebSockets, leave room for HTTP requests (the web app, the API, health checks).
  config.maxTcpConnections = int(
    'MAX_TCP_CONNECTIONS',
    config.maxConnections === 0 ? 0 : config.maxConnections + 1000,
    0,
    10_000_000,
  );
  if (config.maxTcpConnections > 0 && config.maxConnections > 0 && config.maxTcpConnections <= config.maxConnections) {
    problems.push(
      `MAX_TCP_CONNECTIONS (${config.maxTcpConnections}) must exceed MAX_CONNECTIONS (${config.maxConnections}), leaving room for HTTP requests`,
    );
  }
  if (config.historyPageMaxBytes > config.sendBufferLimitBytes) {
    // A welcome alone must fit in what one socket may have queued.
    problems.push(
      `HISTORY_PAGE_MAX_BYTES (${config.historyPageMaxBytes}) must not exceed SEND_BUFFER_LIMIT_BYTES (${config.sendBufferLimitBytes})`,
    );
  }
  if (config.identitySecretPrevious !== undefined && config.identitySecret === undefined) {
    problems.push('IDENTITY_SECRET_PREVIOUS needs IDENTITY_SECRET: it names the secret IDENTITY_SECRET replaced');
  }
  if (config.metricsToken !== undefined && config.metricsToken.length < 16) {
    problems.push('METRICS_TOKEN must be at least 16 characters long');
  }
  // The operator can ban anyone and purge any room: a guessable token would hand that out.
  if (config.adminToken !== undefined && config.adminToken.length < 24) {
    problems.push('ADMIN_TOKEN must be at least 24 characters long (e.g. openssl rand -hex 16)');
  }
  if (
    config.redisUrl === undefined &&
    config.redisClusterNodes === undefined &&
    config.memoryHistoryBudgetBytes < config.historyLength * config.maxTextBytes
  ) {
    problems.push(
      `MEMORY_HISTORY_BUDGET_BYTES (${config.memoryHistoryBudgetBytes}) must hold at least one full room: HISTORY_LENGTH × MAX_TEXT_BYTES = ${config.historyLength * config.maxTextBytes}`,
    );
  }
  for (const source of config.cspConnectSrc) {
    if (!/^(https?|wss?):\/\/[^\s;,']+$/.test(source)) {
      problems.push(`CSP_CONNECT_SRC entries must be http(s):// or ws(s):// sources, got "${source}"`);
    }
  }
  if (config.drainMs >= config.shutdownTimeoutMs) {
    problems.push(`DRAIN_MS (${config.drainMs}) must be less than SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs})`);
  }
  for (const name of ['IDENTITY_SECRET', 'IDENTITY_SECRET_PREVIOUS'] as const) {
    const secret = name === 'IDENTITY_SECRET' ? config.identitySecret : config.identitySecretPrevious;
    if (secret !== undefined && secret.length < 16) problems.push(`${name} must be at least 16 characters long`);
  }
  if (config.maxTextBytes > config.maxPayloadBytes) {
    problems.push(
      `MAX_TEXT_BYTES (${config.maxTextBytes}) must not exceed MAX_PAYLOAD_BYTES (${config.maxPayloadBytes})`,
    );
  }
  if (config.beforePublishUrl !== undefined && (config.beforePublishSecret?.length ?? 0) < 16) {
    // The hook decides what gets posted: it must be able to tell Parley's requests from anyone's.
    problems.push('BEFORE_PUBLISH_URL needs BEFORE_PUBLISH_SECRET (16+ characters), which signs its requests');
  }
  if (config.webhookUrls.length > 0 && (config.webhookSecret?.length ?? 0) < 16) {
    problems.push('WEBHOOK_URLS needs WEBHOOK_SECRET (16+ characters), which signs every delivery');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** WEBHOOK_EVENTS: some of the webhook events, comma-separated; unset: messages, edits and deletions. */
function webhookEvents(raw: string | undefined, problems: string[]): Set<WebhookEventName> {
  const names = (raw ?? '').split(/[\s,]+/).filter((name) => name !== '');
  if (names.length === 0) return new Set(['message', 'edit', 'delete']);
  const events = new Set<WebhookEventName>();
  for (const name of names) {
    if ((WEBHOOK_EVENTS as readonly string[]).includes(name)) events.add(name as WebhookEventName);
    else problems.push(`WEBHOOK_EVENTS must list some of ${WEBHOOK_EVENTS.join(', ')}, got "${name}"`);
  }
  return events;
}

/** An optional http(s) URL, or a problem. */
function httpUrl(name: string, raw: string | undefined, problems: string[]): URL | undefined {
  const value = raw?.trim();
  if (value === undefined || value === '') return undefined;
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '') {
    problems.push(`${name} must be an http:// or https:// URL without credentials, got "${value}"`);
    return undefined;
  }
  return url;
}

/** One of `choices` (the first when unset), or a problem. */
function oneOf<const T extends string>(name: string, raw: string | undefined, choices: T[], problems: string[]): T {
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === '') return choices[0]!;
  if ((choices as string[]).includes(value)) return value as T;
  problems.push(`${name} must be one of ${choices.join(', ')}, got "${raw}"`);
  return choices[0]!;
}

function parseTrustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    // Fastify counts hops from the socket: hop 0 is the proxy that connected to us.
    const hops = Number(raw);
    return (_address, hop) => hop < hops;
  }
  return raw; // addresses or CIDR ranges, comma-separated, as Fastify takes them
}
