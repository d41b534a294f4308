// The systems under test, each started and stopped by the harness. Servers are pinned to the
// server core, Redis (and the load generator, in cli.ts) to the other one.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, httpOk, spawnPinned, stop, waitFor, type Spawned } from './proc.ts';
import type { Protocol } from './protocols.ts';
import { buildRevision } from './revision.ts';

/** Where things are and how to pin them. */
export interface Context {
  repoRoot: string;
  benchRoot: string;
  /** taskset CPU list for servers (the "one core" they get); '' for no pinning. */
  serverCpus: string;
  /** taskset CPU list for Redis and the load generator. */
  auxCpus: string;
  /** Print the children's output (debugging). */
  echo: boolean;
  /** When set, Parley instances run with --cpu-prof into this directory. */
  cpuProfileDir?: string;
}

export interface RunningSystem {
  /** ws:// base URLs; clients are split over them. */
  endpoints: string[];
  /** The server processes (CPU and RSS are summed over them and their children). */
  serverPids: number[];
  /** The Redis processes, when the system uses Redis (one, or each node of a cluster). */
  redisPids?: number[];
  /** Why the system is down (a server or its Redis exited, with the last lines it printed), or undefined while it is up. */
  down(): string | undefined;
  stop(): Promise<void>;
}

function downReason(processes: Spawned[]): string | undefined {
  for (const p of processes) {
    const { exitCode, signalCode } = p.child;
    if (exitCode !== null || signalCode !== null)
      return `${p.name} exited (${signalCode ?? `code ${exitCode}`}):\n${p.tail()}`;
  }
  return undefined;
}

export interface SystemDef {
  id: string;
  label: string;
  protocol: Protocol;
  /** The system promises no loss: the search requires a delivery ratio of exactly 1. */
  lossless: boolean;
  /** Rough scale of its sustainable deliveries/s, where the rate search starts. */
  startDeliveriesPerSec: number;
  /** Why it cannot run here, if it cannot. */
  unavailable?: () => string | undefined;
  start(ctx: Context): Promise<RunningSystem>;
}

// ---------------------------------------------------------------------------------------------
// Redis

export interface RunningRedis {
  port: number;
  url: string;
  process: Spawned;
}

/** The arguments every benchmark redis-server runs with: loopback, no persistence, many clients. */
function redisServerArgs(port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'no',
    '--loglevel',
    'warning',
    '--maxclients',
    '20000',
  ];
}

/** Starts a private redis-server on a free port, pinned to the aux core, without persistence. */
export async function startRedis(ctx: Context): Promise<RunningRedis> {
  const port = await freePort();
  const p = spawnPinned('redis', ctx.auxCpus, 'redis-server', redisServerArgs(port), { echo: ctx.echo });
  await waitFor('redis', () => redisPing(port), 10_000, p);
  return { port, url: `redis://127.0.0.1:${port}`, process: p };
}

export interface RunningRedisCluster {
  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  seeds: string;
  processes: Spawned[];
}

/**
 * Starts a Redis Cluster of `primaries` nodes without replicas (the benchmark measures the split
 * of work, not failover), each pinned to the aux core like the single Redis, joined with
 * `redis-cli --cluster create`.
 */
export async function startRedisCluster(ctx: Context, primaries = 3): Promise<RunningRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-cluster-'));
  const processes: Spawned[] = [];
  const ports: number[] = [];
  try {
    for (let i = 0; i < primaries; i++) {
      const port = await freePort();
      ports.push(port);
      processes.push(
        spawnPinned(
          `redis${i + 1}`,
          ctx.auxCpus,
          'redis-server',
          [
            ...redisServerArgs(port),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--dir',
            dir,
          ],
          { echo: ctx.echo },
        ),
      );
    }
    for (const [i, port] of ports.entries())
      await waitFor(`redis${i + 1}`, () => redisPing(port), 10_000, processes[i]!);
    const created = spawnSync(
      'redis-cli',
      ['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`), '--cluster-replicas', '0', '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stderr || created.stdout}`);
    await waitFor('the cluster', () => clusterOk(ports), 30_000, processes[0]!);
  } catch (err) {
    await Promise.all(processes.map((p) => stop(p)));
    throw err;
  }
  return { seeds: ports.map((port) => `127.0.0.1:${port}`).join(','), processes };
}

/** True when every node says the cluster is ok. */
async function clusterOk(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    const out = spawnSync('redis-cli', ['-p', String(port), 'cluster', 'info'], { encoding: 'utf8' }).stdout ?? '';
    if (!out.includes('cluster_state:ok')) return false;
  }
  return true;
}

function redisPing(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

/** The redis-server version string, e.g. "7.0.15". */
export function redisVersion(): string {
  const out = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '';
  return /v=(\S+)/.exec(out)?.[1] ?? 'unknown';
}

// ---------------------------------------------------------------------------------------------
// Node servers: Parley and the peers

export interface NodeServerOptions {
  name: string;
  script: string;
  env: Record<string, string>;
  cpus: string;
  ready: string;
  nodeArgs?: string[];
}

export async function startNodeServer(
  ctx: Context,
  o: NodeServerOptions,
): Promise<{ process: Spawned; endpoint: string }> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...o.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    NODE_ENV: 'production',
  };
  if (o.env.REDIS_URL === undefined) delete env.REDIS_URL;
  delete env.NODE_OPTIONS;
  const p = spawnPinned(o.name, o.cpus, process.execPath, [...(o.nodeArgs ?? []), o.script], {
    env,
    cwd: ctx.repoRoot,
    echo: ctx.echo,
  });
  await waitFor(`${o.name} ${o.ready}`, () => httpOk(`http://127.0.0.1:${port}${o.ready}`), 20_000, p);
  return { process: p, endpoint: `ws://127.0.0.1:${port}` };
}

export function parleyServerScript(ctx: Context): string {
  return join(ctx.repoRoot, 'apps/server/dist/server.js');
}

/**
 * The git revision the `-before` systems run (BENCH_BEFORE_REV): Parley as it was, built aside
 * (bench/.work/servers), measured in the same run as the working tree's build, side by side.
 */
function beforeRevision(): string {
  const rev = process.env.BENCH_BEFORE_REV;
  if (rev === undefined || rev === '') throw new Error('the -before systems need BENCH_BEFORE_REV=<git revision>');
  return rev;
}

function beforeServerScript(ctx: Context): string {
  return buildRevision(ctx.repoRoot, join(ctx.repoRoot, 'bench'), beforeRevision()).script;
}

export function parleyEnv(redis?: { url: string } | { clusterNodes: string }): Record<string, string> {
  return {
    LOG_LEVEL: 'warn',
    // Bench rooms are used once; let them expire soon instead of after a week.
    ROOM_TTL_SECONDS: '900',
    // The abuse limits would refuse a load generator on one address: off (0 = no limit).
    // (`pnpm attack` is the benchmark that runs Parley with its limits on.)
    RATE_LIMIT_PER_CONNECTION: '0',
    RATE_LIMIT_PER_IP: '0',
    MAX_CONNECTIONS: '0',
    MAX_CONNECTIONS_PER_IP: '0',
    CONNECT_RATE_PER_IP: '0',
    FRAME_RATE_PER_CONNECTION: '0',
    FRAME_RATE_PER_IP: '0',
    MESSAGES_PER_IP_PER_DAY: '0',
    HTTP_RATE_PER_IP: '0',
    HISTORY_BYTES_PER_IP: '0',
    DRAIN_MS: '500',
    ...(redis === undefined
      ? {}
      : 'url' in redis
        ? { REDIS_URL: redis.url }
        : { REDIS_CLUSTER_NODES: redis.clusterNodes }),
  };
}

/**
 * Node flags for Parley's servers: those of its start script (`node <flags> dist/server.js` in
 * apps/server/package.json), so the bench runs it as operators do; the profiler when asked; then
 * BENCH_PARLEY_NODE_ARGS (for experiments, e.g. --trace-gc; a flag given again overrides).
 */
export function parleyNodeArgs(ctx: Context, name: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ctx.repoRoot, 'apps/server/package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const own = scripts.start.split(/\s+/).filter((word) => word.startsWith('--'));
  const extra = process.env.BENCH_PARLEY_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return [
    ...own,
    ...(ctx.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${join(ctx.cpuProfileDir, name)}`]),
    ...extra,
  ];
}

function parley(
  instances: number,
  redis: boolean,
  cpusOf: (ctx: Context, i: number) => string,
  scriptOf = parleyServerScript,
) {
  return async (ctx: Context): Promise<RunningSystem> => {
    const r = redis ? await startRedis(ctx) : undefined;
    const servers: Spawned[] = [];
    const endpoints: string[] = [];
    try {
      for (let i = 0; i < instances; i++) {
        const s = await startNodeServer(ctx, {
          name: `parley${instances > 1 ? i + 1 : ''}`,
          script: scriptOf(ctx),
          env: parleyEnv(r === undefined ? undefined : { url: r.url }),
          cpus: cpusOf(ctx, i),
          ready: '/readyz',
          nodeArgs: parleyNodeArgs(ctx, `parley${i + 1}`),
        });
        servers.push(s.process);
        endpoints.push(s.endpoint);
      }
    } catch (err) {
      await Promise.all(servers.map((s) => stop(s)));
      if (r) await stop(r.process);
      throw err;
    }
    return {
      endpoints,
      serverPids: servers.map((s) => s.pid),
      ...(r ? { redisPids: [r.process.pid] } : {}),
      down: () => downReason(r ? [...servers, r.process] : servers),
      stop: async () => {
        await Promise.all(servers.map((s) => stop(s, 15_000)));
        if (r) await stop(r.process);
      },
    };
  };
}

/** Parley, one instance, on a Redis Cluster of three primaries. */
function parleyOnCluster() {
  return async (ctx: Context): Promise<RunningSystem> => {
    const cluster = await startRedisCluster(ctx);
    let server: Spawned | undefined;
    try {
      const s = await startNodeServer(ctx, {
        name: 'parley',
        script: parleyServerScript(ctx),
        env: parleyEnv({ clusterNodes: cluster.seeds }),
        cpus: ctx.serverCpus,
        ready: '/readyz',
        nodeArgs: parleyNodeArgs(ctx, 'parley1'),
      });
      server = s.process;
      return {
        endpoints: [s.endpoint],
        serverPids: [s.process.pid],
        redisPids: cluster.processes.map((p) => p.pid),
        down: () => downReason([s.process, ...cluster.processes]),
        stop: async () => {
          await stop(s.process, 15_000);
          await Promise.all(cluster.processes.map((p) => stop(p)));
        },
      };
    } catch (err) {
      if (server) await stop(server);
      await Promise.all(cluster.processes.map((p) => stop(p)));
      throw err;
    }
  };
}

function nodePeer(name: string, file: string, redis: boolean) {
  return async (ctx: Context): Promise<RunningSystem> => {
    const r = redis ? await startRedis(ctx) : undefined;
    try {
      const s = await startNodeServer(ctx, {
        name,
        script: join(ctx.benchRoot, 'dist/peers', file),
        env: r ? { REDIS_URL: r.url } : {},
        cpus: ctx.serverCpus,
        ready: '/healthz',
      });
      return {
        endpoints: [s.endpoint],
        serverPids: [s.process.pid],
        ...(r ? { redisPids: [r.process.pid] } : {}),
        down: () => downReason(r ? [s.process, r.process] : [s.process]),
        stop: async () => {
          await stop(s.process);
          if (r) await stop(r.process);
        },
      };
    } catch (err) {
      if (r) await stop(r.process);
      throw err;
    }
  };
}

// ---------------------------------------------------------------------------------------------
// The Django Channels reference (Debian's packages, daphne, channels_redis)

const PYTHON = '/usr/bin/python3';
const DJANGO_PACKAGES = ['python3-django', 'python3-django-channels', 'python3-channels-redis', 'python3-daphne'];
let djangoState: { dir?: string; problem?: string } | undefined;

function djangoImportable(): boolean {
  return spawnSync(PYTHON, ['-c', 'import django, channels, channels_redis, daphne'], { stdio: 'ignore' }).status === 0;
}

/**
 * Installs Debian's Django Channels packages when they are missing (as root), copies the
 * read-only peer to a temporary directory and migrates it once. Returns why it cannot, if so.
 */
export function prepareDjango(repoRoot: string, log: (line: string) => void): string | undefined {
  if (djangoState !== undefined) return djangoState.problem;
  const source = resolve(repoRoot, '../shared/peers/django-channels');
  if (!existsSync(join(source, 'manage.py'))) {
    djangoState = { problem: `the reference peer is not at ../shared/peers/django-channels` };
    return djangoState.problem;
  }
  if (!djangoImportable()) {
    if (process.getuid?.() !== 0) {
      djangoState = { problem: `Django Channels is missing; run: apt-get install -y ${DJANGO_PACKAGES.join(' ')}` };
      return djangoState.problem;
    }
    log(`installing ${DJANGO_PACKAGES.join(' ')} with apt-get …`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...DJANGO_PACKAGES], {
      stdio: 'inherit',
      env,
    });
    if (!djangoImportable()) {
      djangoState = { problem: 'apt-get could not install Django Channels' };
      return djangoState.problem;
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-django-'));
  cpSync(source, dir, { recursive: true });
  const migrate = spawnSync(PYTHON, ['manage.py', 'migrate', '--noinput'], { cwd: dir, encoding: 'utf8' });
  if (migrate.status !== 0) {
    djangoState = { problem: `manage.py migrate failed: ${migrate.stderr.slice(-500)}` };
    return djangoState.problem;
  }
  djangoState = { dir };
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return undefined;
}

/** Versions of the Python side, for the report. */
export function djangoVersions(): string | undefined {
  if (!djangoImportable()) return undefined;
  return execFileSync(
    PYTHON,
    [
      '-c',
      "import sys, django, channels, channels_redis, daphne; print(f'Python {sys.version.split()[0]}, Django {django.get_version()}, channels {channels.__version__}, channels_redis {channels_redis.__version__}, daphne {daphne.__version__}')",
    ],
    { encoding: 'utf8' },
  ).trim();
}

function django(consumer: 'sync' | 'async') {
  return async (ctx: Context): Promise<RunningSystem> => {
    const problem = prepareDjango(ctx.repoRoot, () => {});
    if (problem !== undefined || djangoState?.dir === undefined) throw new Error(problem ?? 'django not prepared');
    const r = await startRedis(ctx);
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      REDIS_HOST: '127.0.0.1',
      REDIS_PORT: String(r.port),
      CONSUMER: consumer,
      PYTHONUNBUFFERED: '1',
    };
    const p = spawnPinned(
      `daphne-${consumer}`,
      ctx.serverCpus,
      PYTHON,
      ['-m', 'daphne', '-b', '127.0.0.1', '-p', String(port), 'mysite.asgi:application'],
      {
        env,
        cwd: djangoState.dir,
        echo: ctx.echo,
      },
    );
    try {
      await waitFor('daphne', () => httpOk(`http://127.0.0.1:${port}/chat/`), 30_000, p);
    } catch (err) {
      await stop(p);
      await stop(r.process);
      throw err;
    }
    return {
      endpoints: [`ws://127.0.0.1:${port}`],
      serverPids: [p.pid],
      redisPids: [r.process.pid],
      down: () => downReason([p, r.process]),
      stop: async () => {
        await stop(p);
        await stop(r.process);
      },
    };
  };
}

const djangoUnavailable = () => (djangoState?.problem !== undefined ? djangoState.problem : undefined);

// ---------------------------------------------------------------------------------------------

export const SYSTEMS: SystemDef[] = [
  {
    id: 'parley-memory',
    label: 'Parley, memory engine, 1 instance',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(1, false, (ctx) => ctx.serverCpus),
  },
  {
    id: 'parley-redis',
    label: 'Parley, Redis engine, 1 instance',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(1, true, (ctx) => ctx.serverCpus),
  },
  {
    // Not in the default list (a comparison of its own: pnpm bench --cost-only
    // --systems=parley-redis,parley-cluster): the same server on three Redis primaries.
    id: 'parley-cluster',
    label: 'Parley, Redis Cluster engine (3 primaries), 1 instance',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parleyOnCluster(),
  },
  {
    // Not in the default list: for a before/after comparison, with BENCH_BEFORE_REV set.
    id: 'parley-memory-before',
    label: 'Parley, memory engine, 1 instance, at BENCH_BEFORE_REV',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(1, false, (ctx) => ctx.serverCpus, beforeServerScript),
  },
  {
    id: 'parley-redis-before',
    label: 'Parley, Redis engine, 1 instance, at BENCH_BEFORE_REV',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(1, true, (ctx) => ctx.serverCpus, beforeServerScript),
  },
  {
    id: 'parley-redis-2x',
    label: 'Parley, Redis engine, 2 instances (both on the server core)',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(2, true, (ctx) => ctx.serverCpus),
  },
  {
    id: 'django-sync',
    label: 'Django Channels tutorial, sync consumer (daphne + channels_redis)',
    protocol: 'reference',
    lossless: false,
    startDeliveriesPerSec: 200,
    unavailable: djangoUnavailable,
    start: django('sync'),
  },
  {
    id: 'django-async',
    label: 'Django Channels tutorial, async consumer (daphne + channels_redis)',
    protocol: 'reference',
    lossless: false,
    startDeliveriesPerSec: 1000,
    unavailable: djangoUnavailable,
    start: django('async'),
  },
  {
    id: 'socketio',
    label: 'Socket.IO 4 + @socket.io/redis-adapter, 1 instance',
    protocol: 'socketio',
    lossless: false,
    startDeliveriesPerSec: 5000,
    start: nodePeer('socketio', 'socketio-server.js', true),
  },
  {
    id: 'ws-raw',
    label: 'raw ws, in-process broadcast (ceiling)',
    protocol: 'reference',
    lossless: false,
    startDeliveriesPerSec: 5000,
    start: nodePeer('ws-raw', 'ws-server.js', false),
  },
  // Not in the default set: the second instance shares the generator's core, so it is not the
  // "server gets one core" comparison. Run with --systems parley-redis-2x-2cores.
  {
    id: 'parley-redis-2x-2cores',
    label: 'Parley, Redis engine, 2 instances on cores 0 and 1 (second shares the generator core)',
    protocol: 'v1',
    lossless: true,
    startDeliveriesPerSec: 5000,
    start: parley(2, true, (ctx, i) => (i === 0 ? ctx.serverCpus : ctx.auxCpus)),
  },
];

export const DEFAULT_SYSTEMS = [
  'parley-memory',
  'parley-redis',
  'parley-redis-2x',
  'django-sync',
  'django-async',
  'socketio',
  'ws-raw',
];

export function systemById(id: string): SystemDef {
  const s = SYSTEMS.find((x) => x.id === id);
  if (s === undefined) throw new Error(`unknown system "${id}"; known: ${SYSTEMS.map((x) => x.id).join(', ')}`);
  return s;
}
