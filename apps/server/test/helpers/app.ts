import type { TestContext } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';

/**
 * Tests send bursts from one address; the limits have tests of their own that set them (the
 * abuse suite runs with the defaults).
 */
export const UNLIMITED = {
  RATE_LIMIT_PER_CONNECTION: '0',
  RATE_LIMIT_PER_IP: '0',
  MAX_CONNECTIONS_PER_IP: '0',
  CONNECT_RATE_PER_IP: '0',
  HTTP_RATE_PER_IP: '0',
  FRAME_RATE_PER_CONNECTION: '0',
  FRAME_RATE_PER_IP: '0',
  MESSAGES_PER_IP_PER_DAY: '0',
  HISTORY_BYTES_PER_IP: '0',
  // Reference clients have no welcome to wait for: a test that sends a burst right after the
  // socket opens must not trip the bound on frames sent before the set-up ends.
  SETUP_FRAMES_MAX: '10000',
} as const;

/** Passed to {@link startApp}, puts every limit UNLIMITED turns off back to its default. */
export const DEFAULT_LIMITS: Record<keyof typeof UNLIMITED, undefined> = Object.fromEntries(
  Object.keys(UNLIMITED).map((name) => [name, undefined]),
) as Record<keyof typeof UNLIMITED, undefined>;

/** A listening app on an ephemeral loopback port, closed when the test ends. */
export interface RunningApp {
  app: FastifyInstance;
  config: Config;
  /** http://127.0.0.1:<port> */
  httpUrl: string;
  /** ws://127.0.0.1:<port> */
  wsUrl: string;
}

/**
 * Builds the real app exactly as production does (buildApp), from environment-style settings,
 * and listens on port 0.
 */
export async function startApp(
  t: TestContext | undefined,
  env: Record<string, string | undefined> = {},
): Promise<RunningApp> {
  const config = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...UNLIMITED,
    // Close leftover sockets at once when a test's app closes.
    DRAIN_MS: '0',
    ...env,
  });
  const app = await buildApp(config);
  t?.after(() => app.close());
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('no address');
  return { app, config, httpUrl: `http://127.0.0.1:${address.port}`, wsUrl: `ws://127.0.0.1:${address.port}` };
}

/** Room URL path for a name, percent-encoded as browsers send it. */
export function roomPath(room: string): string {
  return `/ws/chat/${encodeURIComponent(room)}/`;
}

/** The value of one line of the app's `/metrics` (its name and labels as printed), NaN when absent. */
export async function metric(app: RunningApp, line: string): Promise<number> {
  const text = await (await fetch(`${app.httpUrl}/metrics`)).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? Number.NaN : Number(found.slice(line.length + 1));
}
