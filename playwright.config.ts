import { defineConfig } from '@playwright/test';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ParleyOptions } from './e2e/fixtures.ts';
import { TEST_SERVER_ENV } from './e2e/test-servers.ts';

// The suite tests the built system: the caller builds apps/web and apps/server first
// (`pnpm build`); nothing is built here. It starts its own Redis on a test port and never
// touches a Redis the developer may already run on 6379.
const root = dirname(fileURLToPath(import.meta.url));
const port = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const REDIS_PORT = port('PARLEY_E2E_REDIS_PORT', 6395);
const MEMORY_PORT = port('PARLEY_E2E_MEMORY_PORT', 4310);
const REDIS_A_PORT = port('PARLEY_E2E_REDIS_A_PORT', 4311);
const REDIS_B_PORT = port('PARLEY_E2E_REDIS_B_PORT', 4312);

const REDIS_URL = `redis://127.0.0.1:${REDIS_PORT}`;
const origin = (p: number): string => `http://127.0.0.1:${p}`;
const reuseExistingServer = !process.env.CI;

function parleyServer(name: string, serverPort: number, redisUrl: string) {
  return {
    name,
    command: 'node apps/server/dist/server.js',
    cwd: root,
    url: `${origin(serverPort)}/healthz`,
    reuseExistingServer,
    timeout: 30_000,
    gracefulShutdown: { signal: 'SIGTERM' as const, timeout: 5_000 },
    env: {
      PORT: String(serverPort),
      HOST: '127.0.0.1',
      // Empty means "no Redis": the in-memory engine, even if the caller's shell sets REDIS_URL.
      REDIS_URL: redisUrl,
      WEB_DIST_DIR: resolve(root, 'apps/web/dist'),
      LOG_LEVEL: process.env.PARLEY_E2E_LOG_LEVEL ?? 'warn',
      ...TEST_SERVER_ENV,
      // e2e/server-url.spec.ts loads the app from http://localhost:<port> and points it at a
      // server on http://127.0.0.1:<port>: another origin, which the servers must admit.
      ALLOWED_ORIGINS: [MEMORY_PORT, REDIS_A_PORT].map((p) => `http://localhost:${p}`).join(','),
      // ...and that page's Content Security Policy must let it connect to the other server.
      CSP_CONNECT_SRC: [MEMORY_PORT, REDIS_A_PORT, REDIS_B_PORT]
        .flatMap((p) => [`http://127.0.0.1:${p}`, `ws://127.0.0.1:${p}`])
        .join(' '),
    },
  };
}

export default defineConfig<ParleyOptions>({
  testDir: 'e2e',
  // The README's pictures are taken by `pnpm screenshots` (e2e/screenshots.config.ts) only.
  testIgnore: /screenshots\.spec\.ts/,
  forbidOnly: !!process.env.CI,
  retries: process.env.CI ? 1 : 0,
  // Specs share three server processes and one Redis; one worker keeps rooms and timing simple.
  workers: 1,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: '.test-output/e2e.json' }]],
  outputDir: '.test-output/e2e-artifacts',
  use: {
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  // Started in this order, each awaited before the next: Redis first, then the servers.
  webServer: [
    {
      name: 'redis',
      command: `redis-server --port ${REDIS_PORT} --bind 127.0.0.1 --save '' --appendonly no`,
      port: REDIS_PORT,
      reuseExistingServer,
      timeout: 15_000,
    },
    parleyServer('memory', MEMORY_PORT, ''),
    parleyServer('redis-a', REDIS_A_PORT, REDIS_URL),
    parleyServer('redis-b', REDIS_B_PORT, REDIS_URL),
  ],
  projects: [
    {
      // One instance, in-memory engine: both people on the same server.
      name: 'memory',
      use: {
        baseURL: origin(MEMORY_PORT),
        serverA: origin(MEMORY_PORT),
        serverB: origin(MEMORY_PORT),
        engine: 'memory',
        redisUrl: '',
      },
    },
    {
      // Two instances sharing one Redis: every message must cross from one to the other.
      name: 'redis',
      use: {
        baseURL: origin(REDIS_A_PORT),
        serverA: origin(REDIS_A_PORT),
        serverB: origin(REDIS_B_PORT),
        engine: 'redis',
        redisUrl: REDIS_URL,
      },
    },
    {
      // A 375 px phone with touch, on the in-memory server: the chat, history, presence,
      // accessibility, message-changes, names, moderation, settings, invites, rooms' webhooks and admin specs
      // again at that size.
      name: 'phone',
      testMatch: /(chat|history|presence|a11y|changes|names|moderation|settings|invites|room-webhooks|admin)\.spec\.ts/,
      use: {
        baseURL: origin(MEMORY_PORT),
        serverA: origin(MEMORY_PORT),
        serverB: origin(MEMORY_PORT),
        engine: 'memory',
        redisUrl: '',
        viewport: { width: 375, height: 667 },
        isMobile: true,
        hasTouch: true,
      },
    },
  ],
});
