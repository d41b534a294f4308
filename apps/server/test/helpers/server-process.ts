import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './redis-server.ts';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * A Parley server in its own process, so a test can kill it the hard way. (The client package's
 * integration tests start their servers with it too: packages/client/test/helpers/processes.ts.)
 */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /**
   * Starts `src/server.ts` with the given environment and waits until `readyPath` answers 200:
   * /healthz (the default) once the process listens, /readyz once its engine answers too.
   */
  static async start(
    env: Record<string, string>,
    { readyPath = '/healthz', timeoutMs = 15_000 }: { readyPath?: '/healthz' | '/readyz'; timeoutMs?: number } = {},
  ): Promise<ServerProcess> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: serverDir,
      env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const server = new ServerProcess(child, port);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${server.httpUrl}${readyPath}`)).ok) return server;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    throw new Error(`server process did not answer ${readyPath} within ${timeoutMs / 1000} s`);
  }

  /** The server's resident memory now, from /proc (Linux). */
  rssBytes(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? NaN) * 1024;
  }

  /** The server's process id (to pause it, or read its stats). */
  get pid(): number {
    return this.child.pid!;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}`;
  }

  /** Sends a signal and waits for the process to exit; returns its exit code or signal. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | string | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null)
      return this.child.exitCode ?? this.child.signalCode;
    const exited = new Promise<number | string | null>((resolve) =>
      this.child.once('exit', (code, sig) => resolve(code ?? sig)),
    );
    this.child.kill(signal);
    return exited;
  }
}
