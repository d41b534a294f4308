import { resolve } from 'node:path';
import { existsSync } from 'node:fs';

/** Everything the server reads from its environment, parsed and checked once at start. */
export interface Config {
  /** TCP port to listen on. */
  port: number;
  /** Interface to bind; 0.0.0.0 so containers are reachable. */
  host: string;
  /** Redis URL; when absent the in-memory engine runs (one instance only). */
  redisUrl: string | undefined;
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

  let webDistDir = env.WEB_DIST_DIR?.trim() || undefined;
  if (webDistDir !== undefined) {
    webDistDir = resolve(webDistDir);
    if (!existsSync(resolve(webDistDir, 'index.html'))) {
      problems.push(`WEB_DIST_DIR must be a built web app containing index.html; none in "${webDistDir}" (run the build first)`);
    }
  }

  const allowedOrigins = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim().replace(/\/+$/, ''))
    .filter((o) => o !== '');
  for (const origin of allowedOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`ALLOWED_ORIGINS entries must be origins like https://chat.example.com or *, got "${origin}"`);
    }
  }

  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }

  const config: Config = {
    port: int('PORT', 3000, 0, 65535),
    host: env.HOST?.trim() || '0.0.0.0',
    redisUrl,
    webDistDir,
    allowedOrigins,
    logLevel,
    maxPayloadBytes: int('MAX_PAYLOAD_BYTES', 16 * 1024, 1024, 16 * 1024 * 1024),
    maxTextBytes: int('MAX_TEXT_BYTES', 4096, 1, 1024 * 1024),
    sendBufferLimitBytes: int('SEND_BUFFER_LIMIT_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    historyLength: int('HISTORY_LENGTH', 1000, 1, 1_000_000),
    historyPageSize: int('HISTORY_PAGE_SIZE', 50, 1, 500),
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
  };
  for (const source of config.cspConnectSrc) {
    if (!/^(https?|wss?):\/\/[^\s;,']+$/.test(source)) {
      problems.push(`CSP_CONNECT_SRC entries must be http(s):// or ws(s):// sources, got "${source}"`);
    }
  }
  if (config.drainMs >= config.shutdownTimeoutMs) {
    problems.push(`DRAIN_MS (${config.drainMs}) must be less than SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs})`);
  }
  if (config.identitySecret !== undefined && config.identitySecret.length < 16) {
    problems.push('IDENTITY_SECRET must be at least 16 characters long');
  }
  if (config.maxTextBytes > config.maxPayloadBytes) {
    problems.push(`MAX_TEXT_BYTES (${config.maxTextBytes}) must not exceed MAX_PAYLOAD_BYTES (${config.maxPayloadBytes})`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function parseTrustProxy(raw: string | undefined): Config['trustProxy'] {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) {
    // Trust that many proxies in front of the server.
    const hops = Number(raw);
    return (_address, hop) => hop < hops;
  }
  return raw; // addresses or CIDR ranges, comma-separated, as Fastify takes them
}
