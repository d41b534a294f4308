import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { expect } from '@playwright/test';
import { repoRoot } from './fixtures.ts';
import { TEST_SERVER_ENV } from './test-servers.ts';

/**
 * A Parley server a spec starts for itself, when it needs a setting the project's shared servers
 * (playwright.config.ts) do not have: the built server (`apps/server/dist`), serving the built
 * web app, on a free port of 127.0.0.1, with the shared test settings and the spec's own on top.
 */
export interface OwnServer {
  /** `http://127.0.0.1:<port>`: give it to `openPerson` as the server. */
  readonly origin: string;
  /** What the server printed so far (attach it to a failing test). */
  output(): string;
  /**
   * SIGTERM (a graceful stop), then SIGKILL after 10 s, or SIGKILL at once (a crash: no goodbye
   * frame, the sockets just drop); waits until it exited. Nothing when it exited already.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/**
 * Starts a server with `env` on top of TEST_SERVER_ENV (`REDIS_URL: ''` or absent: the in-memory
 * engine) and waits until it is ready; on `port` when given (a server started again where the
 * browsers will look for it), else on a free one.
 */
export async function startOwnServer(env: Record<string, string>, port?: number): Promise<OwnServer> {
  port ??= await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(process.execPath, [resolve(repoRoot, 'apps/server/dist/server.js')], {
    cwd: repoRoot,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      // Empty: the in-memory engine, even if the caller's shell sets REDIS_URL.
      REDIS_URL: '',
      LOG_LEVEL: 'warn',
      ...TEST_SERVER_ENV,
      WEB_DIST_DIR: resolve(repoRoot, 'apps/web/dist'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');

  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await expect
      .poll(
        async () =>
          fetch(`${origin}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 15_000, message: `the spec's server on port ${port} did not become ready:\n${output}` },
      )
      .toBe(200);
  } catch (err) {
    await stop();
    throw err;
  }
  return { origin, output: () => output, stop };
}
