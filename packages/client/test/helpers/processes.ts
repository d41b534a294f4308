/**
 * Real parts for the integration tests: a Parley server (the server package's own entry point,
 * run with tsx in a child process) on a free loopback port, and a redis-server of its own for
 * the Redis engine. Never port 6379: a developer's Redis is left alone.
 *
 * Both are the server package's test helpers, imported by path: these tests already run the
 * server from its source in this repository, so they start it (and Redis) the way its own tests
 * do rather than keeping a copy.
 */
import { ServerProcess } from '../../../../apps/server/test/helpers/server-process.ts';

export { TestRedis } from '../../../../apps/server/test/helpers/redis-server.ts';
export type { ServerProcess };

/**
 * Every limit that counts per address off: the tests connect many clients from one address.
 * The frame and message rates stay as in production, so the client's pacing is tested with them.
 */
const TEST_LIMITS = {
  MAX_CONNECTIONS_PER_IP: '0',
  CONNECT_RATE_PER_IP: '0',
  HTTP_RATE_PER_IP: '0',
  MESSAGES_PER_IP_PER_DAY: '0',
  HISTORY_BYTES_PER_IP: '0',
  RATE_LIMIT_PER_IP: '0',
  FRAME_RATE_PER_IP: '0',
};

/**
 * Starts a server with these settings (on top of {@link TEST_LIMITS}, closing at once when
 * stopped) and waits until it is ready to carry messages: /readyz, 20 s at most.
 */
export function startServer(env: Record<string, string>): Promise<ServerProcess> {
  return ServerProcess.start({ DRAIN_MS: '0', ...TEST_LIMITS, ...env }, { readyPath: '/readyz', timeoutMs: 20_000 });
}
