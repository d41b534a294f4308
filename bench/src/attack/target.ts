// The server under attack: Parley as operators run it (the Node flags of its start script, every
// limit at its default), memory or Redis engine, pinned to the server core, its log going to a
// file (whose growth is itself a measure). Also: the harness's HTTP look-ups from its own
// address. (The server of another git revision is built by ../revision.ts.)
import { readFileSync, statSync } from 'node:fs';
import { get } from 'node:http';
import { dirname, join } from 'node:path';
import { freePort, sleep, spawnPinned, stop, type Spawned } from '../proc.ts';
import { startRedis, type Context, type RunningRedis } from '../systems.ts';
import { ADDRESSES, type AttackSystem } from './types.ts';

export interface TargetServer {
  port: number;
  pid: number;
  redis?: RunningRedis;
  logFile: string;
  /** Why the server is down, or undefined while it runs. */
  down(): string | undefined;
  stop(): Promise<void>;
}

/**
 * The server's environment: only what the machine needs (PATH, HOME) and what this run sets,
 * so no limit can leak in from the harness's own environment: every limit stays at its default.
 */
function serverEnv(port: number, logLevel: string, redisUrl: string | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: logLevel,
  };
  if (redisUrl !== undefined) env.REDIS_URL = redisUrl;
  return env;
}

export async function startTarget(
  ctx: Context,
  system: AttackSystem,
  o: { script: string; logLevel: string; logFile: string },
): Promise<TargetServer> {
  const redis = system === 'parley-redis' ? await startRedis(ctx) : undefined;
  const port = await freePort();
  // `sh` sends the log to a file and execs node (the pid stays node's): a flood of log lines
  // would otherwise land on the harness, which shares the client core with the neighbour.
  const node = [process.execPath, ...startFlags(o.script), o.script];
  const server = spawnPinned(
    'parley',
    ctx.serverCpus,
    '/bin/sh',
    ['-c', 'log=$1; shift; exec "$@" >"$log" 2>&1', 'sh', o.logFile, ...node],
    {
      env: serverEnv(port, o.logLevel, redis?.url),
      cwd: ctx.repoRoot,
    },
  );
  const down = () =>
    exitReason(server, o.logFile) ?? (redis === undefined ? undefined : exitReason(redis.process, undefined));
  const stopAll = async () => {
    await stop(server, 10_000);
    if (redis !== undefined) await stop(redis.process);
  };
  const deadline = Date.now() + 20_000;
  while ((await probe(port, '/readyz')).status !== 200) {
    const why = down();
    if (why !== undefined || Date.now() > deadline) {
      await stopAll();
      throw new Error(`Parley did not become ready: ${why ?? 'timed out after 20 s'}`);
    }
    await sleep(100);
  }
  return { port, pid: server.pid, ...(redis === undefined ? {} : { redis }), logFile: o.logFile, down, stop: stopAll };
}

/**
 * The Node flags of the server's start script (`node <flags> dist/server.js` in the
 * package.json beside its dist/), as operators run it.
 */
export function startFlags(script: string): string[] {
  const pkg = JSON.parse(readFileSync(join(dirname(script), '..', 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  return pkg.scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
}

function exitReason(p: Spawned, logFile: string | undefined): string | undefined {
  const { exitCode, signalCode } = p.child;
  if (exitCode === null && signalCode === null) return undefined;
  return `${p.name} exited (${signalCode ?? `code ${exitCode}`})${logFile === undefined ? '' : `:\n${logTail(logFile)}`}`;
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-10).join('\n');
  } catch {
    return '';
  }
}

/** Size of a file in bytes (0 when missing). */
export function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** GET from the harness's own address; status 0 when the server does not answer within 2 s. */
export function probe(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, localAddress: ADDRESSES.probe, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, body: '' }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/**
 * Parley's own series from /metrics (not the process ones), summed over their labels; undefined
 * when /metrics does not answer 200.
 */
export async function parleyMetrics(port: number): Promise<Record<string, number> | undefined> {
  const { status, body } = await probe(port, '/metrics');
  if (status !== 200) return undefined;
  const out: Record<string, number> = {};
  for (const line of body.split('\n')) {
    const m = /^(parley_[a-z_]+)(?:\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null || m[1]!.startsWith('parley_process_') || /_(bucket|sum|count)$/.test(m[1]!)) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value)) out[m[1]!] = (out[m[1]!] ?? 0) + value;
  }
  return out;
}

/** VmRSS of one process in KiB (0 when it is gone). */
export function rssOf(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}
