/**
 * Real parts for the integration tests: a Parley server (the server package's own entry point,
 * run with tsx in a child process) on a free loopback port, and a redis-server of its own for
 * the Redis engine. Never port 6379: a developer's Redis is left alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'apps', 'server');

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

/** Finds a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** A Parley server in its own process. */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** Starts the server with these settings (on top of {@link TEST_LIMITS}) and waits for /readyz (20 s at most). */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: serverDir,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        DRAIN_MS: '0',
        ...TEST_LIMITS,
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const server = new ServerProcess(child, port);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${server.url}/readyz`)).ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    child.kill('SIGKILL');
    throw new Error('the server did not become healthy within 20 s');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Stops the server (SIGKILL: nothing of it is needed afterwards) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** A redis-server of the test's own, without persistence. */
export class RedisProcess {
  private readonly dir = mkdtempSync(join(tmpdir(), 'parley-client-redis-'));

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static async start(): Promise<RedisProcess> {
    const port = await freePort();
    const redis = new RedisProcess(
      spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
      port,
    );
    const spawnError = new Promise<never>((_, reject) =>
      redis.child.once('error', (error) => reject(new Error(`could not start redis-server: ${error.message}`))),
    );
    await Promise.race([waitForPong(port), spawnError]);
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits until a redis-server answers PING on a loopback port (10 s at most), in plain RESP. */
async function waitForPong(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const answered = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1_000, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer within 10 s`);
}
