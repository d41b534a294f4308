// `pnpm bench [--quick] [options]`: runs every system on every workload side by side, searches
// each one's maximum sustainable rate, and writes bench/results/<date>.{md,json,svg}.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { GeneratorProcess } from './genproc.ts';
import type { ConnectRequest, ConnectResult, RunResult } from './loadgen.ts';
import { machineBusyMs, machineFacts } from './machine.ts';
import { summariseProfiles } from './profile.ts';
import { RssSampler, cpuMs, hwmKb, killAllNow, rssKb, sleep, stopAll, treeCpuMs, treeCpuSplitMs } from './proc.ts';
import { writeReport } from './report.ts';
import { runBigRooms, runJoinStorms, type StormDeps } from './storms/crowd.ts';
import { DEPLOY_SYSTEMS, runDeployStorm } from './storms/deploy.ts';
import type { StormSettings } from './storms/types.ts';
import {
  DEFAULT_SYSTEMS,
  parleyNodeArgs,
  parleyServerScript,
  prepareDjango,
  systemById,
  type Context,
  type RunningSystem,
  type SystemDef,
} from './systems.ts';
import type {
  CostSample,
  IdleResult,
  ProfileSummary,
  Results,
  SearchOutcome,
  Settings,
  StepPhase,
  StepRecord,
  SystemWorkloadResult,
  WorkloadDef,
} from './types.ts';

export const WORKLOADS: WorkloadDef[] = [
  { id: 'a', title: '10 rooms × 10 clients, 1 sender per room', rooms: 10, clientsPerRoom: 10, sendersPerRoom: 1 },
  {
    id: 'b',
    title: '20 rooms × 25 clients, 2 senders per room (500 connections)',
    rooms: 20,
    clientsPerRoom: 25,
    sendersPerRoom: 2,
  },
  {
    id: 'c',
    title: '1 room × 1,000 clients, 1 sender (large fan-out)',
    rooms: 1,
    clientsPerRoom: 1000,
    sendersPerRoom: 1,
  },
  {
    id: 'd',
    title: '10,000 idle connections: RSS per connection and open rate',
    rooms: 100,
    clientsPerRoom: 100,
    sendersPerRoom: 0,
    idle: true,
  },
];

/** Big rooms and storms (issue 18): opt-in with --workloads (see bench/README.md). */
export const STORM_WORKLOADS = [
  { id: 'e', title: 'one big room: N members, 5 senders at one message a second each' },
  { id: 'f', title: 'the join storm: N clients join one room as fast as they can' },
  { id: 'g', title: 'the deploy storm: instance 1 stopped, its clients recover on instance 2' },
] as const;

/** Systems of e and f when --systems is not given: every default one but the two-instance Parley. */
const CROWD_SYSTEMS = ['parley-memory', 'parley-redis', 'django-sync', 'django-async', 'socketio', 'ws-raw'];

const USAGE = `usage: pnpm bench [--quick] [options]

  --quick                 a short run of workloads b and d (a few minutes); also BENCH_QUICK=1
  --systems=a,b           systems to run (default: ${DEFAULT_SYSTEMS.join(',')};
                          also parley-redis-2x-2cores)
  --workloads=b,a,c,d     workloads to run, in this order (default: b,a,c,d; quick: b,d); also
                          e (one big room), f (join storm), g (deploy storm): opt-in, e.g.
                          --workloads=e,f,g (results as <date>-storms.md when only those run)
  --big-room-sizes=N,N…   members of the one room in e and f (default 2000,5000,10000; quick 500,1000,2000)
  --big-room-senders=5    senders in e, one message a second each
  --big-room-duration-ms=N  measured window of e (default 30000; quick 4000)
  --join-concurrency=100  connections opened at once while e fills its room
  --storm-concurrency=500 connections opened at once in f
  --deploy-clients=N      clients in g (default 10000; quick 2000), in --deploy-rooms=N rooms (100; quick 20)
  --deploy-rate=N         msg/s over g's senders, one per room (default: one a second per room)
  --deploy-drain-ms=3000  DRAIN_MS of the stopped instance in g (the server's default)
  --warmup-ms=N           warm-up of each step before measuring
  --duration-ms=N         measured window of each step
  --drain-ms=N            longest wait for deliveries in flight after a step
  --repeats=N             runs at the candidate limit (median p99 decides)
  --bisections=N          refinement steps between the last pass and first fail
  --common-rate=N[,N…]    msg/s at which every Node system runs workload b for the cost comparison
                          (default 1000,2500; quick 1000)
  --idle-connections=N    connections of workload d (default 10000)
  --budget-min=N          stop starting new searches after N minutes
  --noisy-other-pct=30    a failed step during which other processes used more than this
                          (% of a core) is measured again after a quiet moment …
  --noisy-retries=2       … at most this many times
  --no-profile            skip the CPU profile of Parley (redis engine) under load
  --cost-only             only the cost comparison: workload b at --common-rate, --repeats times
                          per system (no search); a quick check of CPU per delivery
  --profile-only=RATE     only profile Parley (redis engine) on workload b at RATE msg/s
  --render=FILE.json      only rewrite the Markdown and charts of an earlier run from its JSON
  --redo-min=N            extra minutes past the budget for re-running searches that outside
                          load limited (default 8, quick 3)
  --merge-into=FILE.json  put this run's system/workload results into an earlier run's results
                          (the replaced ones go to "superseded", with a note), then rewrite it;
                          the run's own files go to bench/.work/partial unless --out is given
  --merge-reason=TEXT     why they were measured again (goes into the notes)
  --server-cpus=0         taskset list for servers; --aux-cpus=1 for generator and Redis
  --out=DIR               results directory (default bench/results; bench/.work/partial with --merge-into)
  --echo                  print the servers' output`;

/** How long workload d watches the idle server after all connections are open (seconds). */
const IDLE_SETTLE_S = 30;

interface Args {
  settings: Settings;
  systems: string[];
  workloads: string[];
  profile: boolean;
  profileOnly: number | undefined;
  costOnly: boolean;
  mergeInto: string | undefined;
  mergeReason: string | undefined;
  serverCpus: string;
  auxCpus: string;
  out: string;
  echo: boolean;
  /** --systems was given (else e, f and g pick their own default systems). */
  systemsGiven: boolean;
}

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string>();
  for (const a of argv) {
    if (a === '--') continue;
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (m === null) throw new Error(`unknown argument "${a}"\n${USAGE}`);
    flags.set(m[1]!, m[2] ?? 'true');
  }
  if (flags.has('help')) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = flags.has('quick') || process.env.BENCH_QUICK === '1';
  const num = (name: string, fallback: number) => {
    const v = flags.get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number`);
    return n;
  };
  const known = new Set([
    'quick',
    'systems',
    'workloads',
    'warmup-ms',
    'duration-ms',
    'drain-ms',
    'repeats',
    'bisections',
    'common-rate',
    'idle-connections',
    'budget-min',
    'no-profile',
    'server-cpus',
    'aux-cpus',
    'out',
    'echo',
    'max-steps',
    'noisy-other-pct',
    'noisy-retries',
    'profile-only',
    'cost-only',
    'render',
    'redo-min',
    'merge-into',
    'merge-reason',
    'big-room-sizes',
    'big-room-senders',
    'big-room-duration-ms',
    'join-concurrency',
    'storm-concurrency',
    'deploy-clients',
    'deploy-rooms',
    'deploy-rate',
    'deploy-drain-ms',
  ]);
  for (const k of flags.keys()) if (!known.has(k)) throw new Error(`unknown option --${k}\n${USAGE}`);
  // The cost comparison runs at each of these rates: light load, and one where batching starts
  // to pay (both well within what Socket.IO sustains).
  const commonRates = (flags.get('common-rate') ?? (quick ? '1000' : '1000,2500'))
    .split(',')
    .map((x) => Number(x.trim()));
  if (commonRates.some((x) => !Number.isFinite(x) || x < 0))
    throw new Error(`--common-rate must be numbers: ${flags.get('common-rate')}`);
  const sizes = (flags.get('big-room-sizes') ?? (quick ? '500,1000,2000' : '2000,5000,10000'))
    .split(',')
    .map((x) => Number(x.trim()));
  if (sizes.some((x) => !Number.isInteger(x) || x < 1 || x > 60_000))
    throw new Error(`--big-room-sizes must be whole numbers from 1 to 60000: ${flags.get('big-room-sizes')}`);
  const deployRooms = Math.max(1, num('deploy-rooms', quick ? 20 : 100));
  const storms: StormSettings = {
    bigRoomSizes: sizes,
    bigRoomSenders: Math.max(1, num('big-room-senders', 5)),
    bigRoomWarmupMs: quick ? 1000 : 2000,
    bigRoomDurationMs: num('big-room-duration-ms', quick ? 4000 : 30_000),
    joinConcurrency: Math.max(1, num('join-concurrency', 100)),
    stormConcurrency: Math.max(1, num('storm-concurrency', 500)),
    deployClients: Math.max(deployRooms, num('deploy-clients', quick ? 2000 : 10_000)),
    deployRooms,
    deployRate: num('deploy-rate', deployRooms),
    deployDrainMs: num('deploy-drain-ms', 3000),
    deployBaselineMs: quick ? 3000 : 5000,
    deployAfterMs: quick ? 2000 : 3000,
    // The web client's reconnect backoff (packages/client/src/connection/backoff.ts, RECONNECT_BACKOFF).
    deployBackoff: { minMs: 500, maxMs: 10_000 },
  };
  const settings: Settings = {
    mode: quick ? 'quick' : 'full',
    warmupMs: num('warmup-ms', quick ? 750 : 1000),
    durationMs: num('duration-ms', quick ? 2000 : 5000),
    drainMs: num('drain-ms', quick ? 1500 : 2500),
    textBytes: 64,
    repeats: num('repeats', quick ? 1 : 3),
    bisections: num('bisections', quick ? 1 : 2),
    maxStepsPerSearch: num('max-steps', quick ? 7 : 12),
    commonRate: commonRates[0]!,
    commonRates,
    idleConnections: num('idle-connections', quick ? 2000 : 10_000),
    p99LimitMs: 100,
    minRatio: 0.999,
    noisyOtherPct: num('noisy-other-pct', 30),
    noisyRetries: num('noisy-retries', quick ? 1 : 2),
    redoMinutes: num('redo-min', quick ? 3 : 8),
    budgetMinutes: num('budget-min', quick ? 8 : 40),
    storms,
  };
  const list = (name: string, fallback: string[]) =>
    flags
      .get(name)
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean) ?? fallback;
  const systems = list('systems', DEFAULT_SYSTEMS);
  systems.forEach(systemById);
  // b first: it carries the goals, and it must not be the one a used-up budget skips. The quick
  // run is b and d only (a few minutes); --workloads adds a and c.
  const workloads = list('workloads', quick ? ['b', 'd'] : ['b', 'a', 'c', 'd']);
  for (const w of workloads)
    if (!WORKLOADS.some((x) => x.id === w) && !STORM_WORKLOADS.some((x) => x.id === w))
      throw new Error(`unknown workload "${w}"`);
  // Results of runs without e, f and g stay as they were.
  if (!workloads.some((w) => STORM_WORKLOADS.some((x) => x.id === w))) delete settings.storms;
  return {
    settings,
    systems,
    workloads,
    profile: !flags.has('no-profile'),
    profileOnly: flags.has('profile-only') ? num('profile-only', 1000) : undefined,
    costOnly: flags.has('cost-only'),
    mergeInto: flags.has('merge-into') ? resolve(flags.get('merge-into')!) : undefined,
    mergeReason: flags.get('merge-reason'),
    serverCpus: flags.get('server-cpus') ?? '0',
    auxCpus: flags.get('aux-cpus') ?? '1',
    out: flags.get('out') ?? '',
    echo: flags.has('echo'),
    systemsGiven: flags.has('systems'),
  };
}

function findRepoRoot(from: string): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find the repository root (pnpm-workspace.yaml)');
}

// ---------------------------------------------------------------------------------------------

interface Snapshot {
  t: number;
  hr: bigint;
  server: number;
  /** The part of `server` spent in the kernel (system calls, and the network stack they run). */
  serverKernel: number;
  /** CPU ms of each Redis process. */
  redis: number[];
  gen: number;
  harness: number;
  machine: number;
}

const sum = (values: number[]): number => values.reduce((total, value) => total + value, 0);

function snapshot(sys: RunningSystem, gen: GeneratorProcess): Snapshot {
  const own = process.cpuUsage();
  const server = treeCpuSplitMs(sys.serverPids);
  return {
    t: performance.now(),
    hr: process.hrtime.bigint(),
    server: server.user + server.kernel,
    serverKernel: server.kernel,
    redis: (sys.redisPids ?? []).map((pid) => cpuMs(pid)),
    gen: cpuMs(gen.pid),
    harness: (own.user + own.system) / 1000,
    machine: machineBusyMs(),
  };
}

const nice = (r: number): number => {
  if (r <= 0) return 0;
  const digits = Math.floor(Math.log10(r)) - 2;
  const unit = 10 ** digits;
  return Math.round(r / unit) * unit;
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : String(n);
}

/** The search's limit came from a failure while other processes used a large share of the machine. */
function noiseLimited(run: SystemWorkloadResult): boolean {
  return run.search !== null && run.search.bound.startsWith('latency while other processes');
}

class Bench {
  readonly ctx: Context;
  readonly startedAt = Date.now();
  readonly results: Results;
  private lastWindow: { from: bigint; to: bigint } | undefined;

  constructor(
    readonly args: Args,
    readonly repoRoot: string,
    readonly benchRoot: string,
    readonly outDir: string,
    readonly stamp: string,
  ) {
    this.ctx = { repoRoot, benchRoot, serverCpus: args.serverCpus, auxCpus: args.auxCpus, echo: args.echo };
    const now = new Date();
    this.results = {
      version: 1,
      date: stamp,
      startedAt: now.toISOString(),
      finishedAt: '',
      durationS: 0,
      machine: machineFacts(repoRoot, benchRoot, args.serverCpus, args.auxCpus),
      commands: [],
      settings: args.settings,
      workloads: WORKLOADS.filter((w) => args.workloads.includes(w.id)),
      systems: args.systems.map((id) => {
        const s = systemById(id);
        return { id: s.id, label: s.label, protocol: s.protocol };
      }),
      runs: [],
      idle: [],
      notes: [],
    };
  }

  /** Set while re-running a noise-limited search, which has its own (extra) time. */
  ignoreBudget = false;

  get budgetLeftMs(): number {
    return this.args.settings.budgetMinutes * 60_000 - (Date.now() - this.startedAt);
  }

  /** Budget left for new steps: the run's, or the redo allowance while re-running. */
  get stepBudgetLeftMs(): number {
    return this.budgetLeftMs + (this.ignoreBudget ? this.args.settings.redoMinutes * 60_000 : 0);
  }

  log(line: string): void {
    const t = ((Date.now() - this.startedAt) / 1000).toFixed(0).padStart(5);
    console.log(`[${t}s] ${line}`);
  }

  /** Runs one measured step and derives the server-side figures of its window. */
  async step(
    def: SystemDef,
    wl: WorkloadDef,
    sys: RunningSystem,
    gen: GeneratorProcess,
    rate: number,
    phase: StepPhase,
  ): Promise<StepRecord> {
    const s = this.args.settings;
    // Enough messages for a percentile even at the Django consumers' low rates (capped at 20 s).
    const durationMs = Math.min(20_000, Math.max(s.durationMs, Math.ceil((40 / rate) * 1000)));
    let start: Snapshot | undefined;
    let end: Snapshot | undefined;
    gen.onPhase = (p) => {
      if (p === 'start') start = snapshot(sys, gen);
      else end = snapshot(sys, gen);
    };
    const before = sys.down();
    if (before !== undefined) throw new Error(before);
    const rss = new RssSampler(sys.serverPids);
    const startedAt = new Date().toISOString();
    let r: RunResult;
    try {
      r = await gen.run({ rate, warmupMs: s.warmupMs, durationMs, drainMs: s.drainMs, textBytes: s.textBytes });
    } finally {
      gen.onPhase = () => {};
    }
    const peak = rss.stop();
    // A server that died during the step makes its figures meaningless: stop this system here.
    const after = sys.down();
    if (after !== undefined) throw new Error(`during the ${rate} msg/s step: ${after}`);
    if (start === undefined || end === undefined) throw new Error('the generator did not report its measured window');
    this.lastWindow = { from: start.hr, to: end.hr };
    const wall = end.t - start.t;
    const server = end.server - start.server;
    const startRedis = start.redis;
    const redisEach = end.redis.map((ms, i) => ms - (startRedis[i] ?? 0));
    const redis = redisEach.reduce((sum, ms) => sum + ms, 0);
    const genCpu = end.gen - start.gen;
    const other = Math.max(0, end.machine - start.machine - server - redis - genCpu - (end.harness - start.harness));
    const deliveries = (r.deliveredPerSec * r.windowMs) / 1000;
    const rec: StepRecord = {
      ...r,
      phase,
      pass: false,
      reasons: [],
      offeredDeliveriesPerSec: rate * wl.clientsPerRoom,
      serverCpuMs: server,
      serverCpuPct: (100 * server) / wall,
      serverCpuMsPer1k: deliveries > 0 ? server / (deliveries / 1000) : NaN,
      serverKernelPct: server > 0 ? (100 * (end.serverKernel - start.serverKernel)) / server : NaN,
      serverPeakRssKb: peak,
      redisCpuPct: sys.redisPids === undefined ? null : (100 * redis) / wall,
      // Each Redis process's CPU per message sent (a cluster's primaries share the work).
      redisCpuMsPerMessage: r.sent > 0 ? redisEach.map((ms) => ms / r.sent) : [],
      auxCorePct: (100 * (genCpu + redis)) / wall,
      otherCpuPct: (100 * other) / wall,
      startedAt,
    };
    const reasons = this.judge(def, wl, rec);
    rec.reasons = reasons;
    rec.pass = reasons.length === 0;
    this.log(
      `${wl.id} ${def.id.padEnd(15)} ${phase.padEnd(6)} ${fmt(rate, 1).padStart(8)} msg/s → ${fmt(rec.deliveredPerSec, 0).padStart(7)} deliv/s ` +
        `ratio ${rec.ratio.toFixed(4)} p50 ${fmt(rec.latencyMs.p50)} p99 ${fmt(rec.latencyMs.p99)} max ${fmt(rec.latencyMs.max)} ms | ` +
        `server ${fmt(rec.serverCpuPct, 0)}% ${fmt(rec.serverCpuMsPer1k, 2)} ms/1k | gen ${fmt(rec.genCpuPct, 0)}% redis ${rec.redisCpuPct === null ? '-' : fmt(rec.redisCpuPct, 0)}%${redisEach.length > 1 ? ` (${redisEach.map((ms) => fmt((100 * ms) / wall, 0)).join('+')})` : ''} other ${fmt(rec.otherCpuPct, 0)}% | ` +
        (rec.pass ? 'pass' : `FAIL: ${reasons.join('; ')}`),
    );
    return rec;
  }

  private judge(def: SystemDef, wl: WorkloadDef, r: StepRecord): string[] {
    const s = this.args.settings;
    const reasons: string[] = [];
    const minRatio = def.lossless ? 1 : s.minRatio;
    if (r.sent === 0) reasons.push('nothing sent');
    if (r.ratio < minRatio)
      reasons.push(
        `delivered ${(100 * r.ratio).toFixed(3)}% < ${(100 * minRatio).toFixed(1)}% by the end of the drain`,
      );
    if (def.lossless && r.duplicates > 0) reasons.push(`${r.duplicates} duplicate deliveries`);
    if (def.lossless && r.errors > 0) reasons.push(`${r.errors} error frames (${r.firstError ?? ''})`);
    if (r.latencyMs.p99 >= s.p99LimitMs) reasons.push(`p99 ${fmt(r.latencyMs.p99)} ms ≥ ${s.p99LimitMs} ms`);
    if (r.openAtStart < r.clients) reasons.push(`only ${r.openAtStart}/${r.clients} clients open`);
    if (r.disconnects > 0) reasons.push(`${r.disconnects} clients disconnected`);
    const owed = (r.rate * r.windowMs) / 1000;
    if (r.sent + r.unsent < owed * 0.97 - wl.rooms * wl.sendersPerRoom)
      reasons.push(`generator fell behind: sent ${fmt((100 * r.sent) / owed, 0)}% of the offered rate`);
    return reasons;
  }

  private static lossOk(r: StepRecord): boolean {
    return r.reasons.every((x) => x.startsWith('p99 '));
  }

  /** What most likely stopped a failed step. */
  private bound(r: StepRecord): string {
    if (r.serverCpuPct >= 90) return 'server CPU';
    if (r.auxCorePct >= 90 || r.reasons.some((x) => x.startsWith('generator'))) return 'generator/Redis core';
    const late = r.reasons.some((x) => x.startsWith('p99'));
    if (late && r.otherCpuPct > this.args.settings.noisyOtherPct)
      return `latency while other processes used ${r.otherCpuPct.toFixed(0)}% of a core`;
    if (late) return 'latency (queueing below full server CPU)';
    return 'loss';
  }

  /**
   * One step, with recovery after a failure. A failure while other processes took a large share
   * of the machine says little: it is kept on record as `noisy` and measured again after a
   * quieter moment (bounded).
   */
  async measure(
    def: SystemDef,
    wl: WorkloadDef,
    sys: RunningSystem,
    gen: GeneratorProcess,
    rate: number,
    phase: StepPhase,
    steps: StepRecord[],
    reconnect: () => Promise<ConnectResult>,
    canStep: () => boolean = () => this.stepBudgetLeftMs > 0,
  ): Promise<StepRecord> {
    const s = this.args.settings;
    for (let attempt = 0; ; attempt++) {
      const rec = await this.step(def, wl, sys, gen, rate, phase);
      if (!rec.pass) await this.recover(sys, gen, reconnect);
      if (!rec.pass && rec.otherCpuPct > s.noisyOtherPct && attempt < s.noisyRetries && canStep()) {
        rec.phase = 'noisy';
        steps.push(rec);
        await this.waitForQuiet(sys, gen);
        continue;
      }
      steps.push(rec);
      return rec;
    }
  }

  /** Waits (up to 20 s) until processes outside the benchmark use less than the noise threshold. */
  private async waitForQuiet(sys: RunningSystem, gen: GeneratorProcess): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const a = snapshot(sys, gen);
      await sleep(1000);
      const b = snapshot(sys, gen);
      const other =
        b.machine -
        a.machine -
        (b.server - a.server) -
        (sum(b.redis) - sum(a.redis)) -
        (b.gen - a.gen) -
        (b.harness - a.harness);
      if ((100 * other) / (b.t - a.t) < this.args.settings.noisyOtherPct) return;
    }
    this.log('the machine stayed busy with other work; measuring anyway');
  }

  /** After a failed step: drop the connections, let the server drain its backlog, reconnect. */
  private async recover(
    sys: RunningSystem,
    gen: GeneratorProcess,
    reconnect: () => Promise<ConnectResult>,
  ): Promise<void> {
    await gen.close();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const pids = [...sys.serverPids, ...(sys.redisPids ?? [])];
      const c0 = treeCpuMs(pids);
      await sleep(500);
      if (treeCpuMs(pids) - c0 < 50) break;
    }
    await reconnect();
  }

  /** The maximum-sustainable-rate search for one system on one workload. */
  async search(
    def: SystemDef,
    wl: WorkloadDef,
    sys: RunningSystem,
    gen: GeneratorProcess,
    steps: StepRecord[],
    reconnect: () => Promise<ConnectResult>,
  ): Promise<SearchOutcome> {
    const s = this.args.settings;
    const searchBudgetMs = (s.mode === 'quick' ? 1.5 : 4) * 60_000;
    const until = Date.now() + searchBudgetMs;
    let count = 0;
    const canStep = () => count < s.maxStepsPerSearch && Date.now() < until && this.stepBudgetLeftMs > 0;
    const maxRate = 400_000 / Math.max(1, wl.clientsPerRoom / 10);
    const minRate = 0.2;
    const tryRate = async (rate: number, phase: StepPhase) => {
      count += 1;
      return this.measure(def, wl, sys, gen, rate, phase, steps, reconnect, canStep);
    };
    let lo: number | null = null;
    let hi: number | null = null;
    let lastFail: StepRecord | undefined;

    let rate = nice(def.startDeliveriesPerSec / wl.clientsPerRoom);
    while (lo === null && canStep() && rate >= minRate) {
      const rec = await tryRate(rate, 'search');
      if (rec.pass) lo = rate;
      else {
        hi = rate;
        lastFail = rec;
        rate = nice(rate / 4);
      }
    }
    if (lo === null) {
      return {
        maxRate: null,
        maxDeliveriesPerSec: null,
        failRate: hi,
        bound: lastFail ? this.bound(lastFail) : 'budget',
        note: `no rate passed (lowest tried ${hi ?? '-'} msg/s)`,
      };
    }
    while (hi === null && canStep()) {
      rate = nice(lo * 2);
      if (rate > maxRate) break;
      const rec = await tryRate(rate, 'search');
      if (rec.pass) lo = rate;
      else {
        hi = rate;
        lastFail = rec;
      }
    }
    for (let i = 0; i < s.bisections && hi !== null && hi / lo > 1.12 && canStep(); i++) {
      rate = nice(Math.sqrt(lo * hi));
      if (rate <= lo || rate >= hi) break;
      const rec = await tryRate(rate, 'search');
      if (rec.pass) lo = rate;
      else {
        hi = rate;
        lastFail = rec;
      }
    }
    // Repeat the candidate: it stands when no run lost anything and the median p99 is in bounds.
    let note = '';
    for (let fallback = 0; ; fallback++) {
      const runs = steps.filter((x) => x.rate === lo && (x.phase === 'search' || x.phase === 'repeat'));
      while (runs.length < s.repeats && canStep()) runs.push(await tryRate(lo, 'repeat'));
      if (runs.length < s.repeats) note = `only ${runs.length} of ${s.repeats} runs at the limit (budget)`;
      const holds = runs.every(Bench.lossOk) && median(runs.map((x) => x.latencyMs.p99)) < s.p99LimitMs;
      if (holds) {
        const failRec = lastFail ?? steps.filter((x) => !x.pass).at(-1);
        return {
          maxRate: lo,
          maxDeliveriesPerSec: median(runs.map((x) => x.deliveredPerSec)),
          failRate: hi,
          bound: hi === null ? `not reached (stopped at ${lo} msg/s)` : failRec ? this.bound(failRec) : 'latency',
          note,
        };
      }
      lastFail = runs.find((x) => !x.pass) ?? lastFail;
      hi = lo;
      const lower = steps.filter((x) => x.pass && x.rate < lo!).map((x) => x.rate);
      if (lower.length === 0) {
        return {
          maxRate: null,
          maxDeliveriesPerSec: null,
          failRate: hi,
          bound: lastFail ? this.bound(lastFail) : 'latency',
          note: `the candidate ${lo} msg/s did not hold on repeat`,
        };
      }
      if (fallback >= 2 || !canStep()) {
        // Out of steps: the highest lower rate that passed stands, unrepeated, and says so.
        const best = Math.max(...lower);
        const runsAtBest = steps.filter((x) => x.rate === best && x.pass);
        return {
          maxRate: best,
          maxDeliveriesPerSec: median(runsAtBest.map((x) => x.deliveredPerSec)),
          failRate: hi,
          bound: lastFail ? this.bound(lastFail) : 'latency',
          note: `${lo} msg/s did not hold on repeat; ${best} msg/s passed but was not repeated (step budget)`,
        };
      }
      lo = Math.max(...lower);
    }
  }

  private connectRequest(def: SystemDef, wl: WorkloadDef, sys: RunningSystem, n: number): ConnectRequest {
    return {
      endpoints: sys.endpoints,
      protocol: def.protocol,
      rooms: wl.rooms,
      clientsPerRoom: wl.clientsPerRoom,
      sendersPerRoom: wl.sendersPerRoom,
      roomPrefix: `${wl.id}${n}`,
      concurrency: def.id.startsWith('django') ? 25 : 100,
      timeoutMs: wl.idle ? 180_000 : 90_000,
    };
  }

  async runWorkload(def: SystemDef, wl: WorkloadDef, ignoreBudget = false): Promise<SystemWorkloadResult> {
    const t0 = Date.now();
    const result: SystemWorkloadResult = {
      workload: wl.id,
      system: def.id,
      label: def.label,
      protocol: def.protocol,
      connect: null,
      steps: [],
      search: null,
      serverHwmKb: null,
      durationS: 0,
    };
    const unavailable = def.unavailable?.();
    if (unavailable !== undefined) {
      result.skipped = unavailable;
      return result;
    }
    if (this.budgetLeftMs <= 0 && !ignoreBudget) {
      result.skipped = 'time budget used up';
      return result;
    }
    this.ignoreBudget = ignoreBudget;
    this.log(`=== workload ${wl.id} · ${def.label}`);
    try {
      await this.withSystem(def, this.ctx, async (sys, gen) => {
        let n = 0;
        const reconnect = async () => {
          const c = await gen.connect(this.connectRequest(def, wl, sys, n++));
          if (c.connected < c.requested) this.log(`connected ${c.connected}/${c.requested}: ${c.firstError ?? ''}`);
          return c;
        };
        result.connect = await reconnect();
        this.log(
          `connected ${result.connect.connected}/${result.connect.requested} in ${fmt(result.connect.elapsedMs / 1000, 1)} s`,
        );
        if (result.connect.connected === 0)
          throw new Error(`no client could connect: ${result.connect.firstError ?? ''}`);
        result.search = await this.search(def, wl, sys, gen, result.steps, reconnect);
        if (result.search.maxRate !== null && this.stepBudgetLeftMs > 0) {
          await this.measure(def, wl, sys, gen, nice(result.search.maxRate / 2), 'half', result.steps, reconnect);
        }
        result.serverHwmKb = hwmKb(sys.serverPids);
        const sr = result.search;
        this.log(
          `→ ${def.id} on ${wl.id}: max sustainable ${sr.maxRate ?? 'none'} msg/s (${fmt(sr.maxDeliveriesPerSec ?? NaN, 0)} deliveries/s), bound: ${sr.bound} ${sr.note}`,
        );
      });
    } catch (err) {
      result.error = (err as Error).message;
      this.log(`error: ${result.error}`);
    }
    result.durationS = (Date.now() - t0) / 1000;
    return result;
  }

  /** Starts a system and a load generator, runs `body`, and stops both whatever happens. */
  private async withSystem<T>(
    def: SystemDef,
    ctx: Context,
    body: (sys: RunningSystem, gen: GeneratorProcess) => Promise<T>,
  ): Promise<T> {
    const sys = await def.start(ctx);
    let gen: GeneratorProcess | undefined;
    try {
      gen = GeneratorProcess.start(ctx);
      return await body(sys, gen);
    } finally {
      await gen?.stop();
      await sys.stop();
    }
  }

  /**
   * The cost comparison: each Node system on workload b at each common rate, `rounds` times,
   * round-robin (a fresh server every time), so that a drift of the machine's speed during the
   * run is shared by all systems instead of favouring whichever ran in a fast minute.
   */
  async runCostRounds(systems: string[], rounds: number): Promise<CostSample[]> {
    const s = this.args.settings;
    const wl = WORKLOADS.find((w) => w.id === 'b')!;
    const defs = systems.map(systemById).filter((d) => !d.id.startsWith('django') && d.unavailable?.() === undefined);
    const samples: CostSample[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const rate of s.commonRates ?? [s.commonRate]) {
        for (const def of defs) {
          try {
            const rec = await this.withSystem(def, this.ctx, async (sys, gen) => {
              const reconnect = () => gen.connect(this.connectRequest(def, wl, sys, 0));
              await reconnect();
              return this.measure(def, wl, sys, gen, rate, 'common', [], reconnect, () => true);
            });
            samples.push({ system: def.id, round, rate, step: rec });
            this.log(
              `cost round ${round} · ${def.id}: ${fmt(rec.serverCpuMsPer1k, 3)} ms per 1k deliveries at ${rate} msg/s (server CPU ${fmt(rec.serverCpuPct, 0)}%, p99 ${fmt(rec.latencyMs.p99, 2)} ms, other ${fmt(rec.otherCpuPct, 0)}%)`,
            );
          } catch (err) {
            this.log(`cost round ${round} · ${def.id} at ${rate} msg/s failed: ${(err as Error).message}`);
          }
        }
      }
    }
    return samples;
  }

  async runIdle(def: SystemDef, wl: WorkloadDef): Promise<IdleResult> {
    const n = this.args.settings.idleConnections;
    const perRoom = Math.min(100, n);
    const rooms = Math.ceil(n / perRoom);
    const res: IdleResult = {
      system: def.id,
      label: def.label,
      protocol: def.protocol,
      requested: rooms * perRoom,
      connected: 0,
      elapsedMs: 0,
      openPerSec: 0,
      baselineRssKb: 0,
      rssKb: 0,
      peakRssKb: 0,
      kibPerConnection: null,
      idleCpuPct: 0,
    };
    const unavailable = def.unavailable?.();
    if (unavailable !== undefined) return { ...res, skipped: unavailable };
    if (this.budgetLeftMs <= -10 * 60_000) return { ...res, skipped: 'time budget used up' };
    this.log(`=== workload ${wl.id} · ${def.label}: ${res.requested} idle connections`);
    try {
      await this.withSystem(def, this.ctx, async (sys, gen) => {
        await sleep(2000);
        res.baselineRssKb = rssKb(sys.serverPids);
        const sampler = new RssSampler(sys.serverPids, 250);
        const c = await gen.connect({
          ...this.connectRequest(def, { ...wl, rooms, clientsPerRoom: perRoom }, sys, 0),
          concurrency: def.id.startsWith('django') ? 50 : 200,
        });
        res.connected = c.connected;
        res.elapsedMs = c.elapsedMs;
        res.openPerSec = c.openPerSec;
        if (c.firstError !== undefined) res.firstError = c.firstError;
        await sleep(2000);
        const cpu0 = treeCpuMs(sys.serverPids);
        const t0 = performance.now();
        let low = Number.POSITIVE_INFINITY;
        for (let i = 0; i < 16; i++) {
          await sleep(250);
          low = Math.min(low, rssKb(sys.serverPids));
        }
        res.idleCpuPct = (100 * (treeCpuMs(sys.serverPids) - cpu0)) / (performance.now() - t0);
        res.rssKb = low;
        res.kibPerConnection = c.connected > 0 ? (low - res.baselineRssKb) / c.connected : null;
        // Garbage of the connection storm (handshakes, welcome frames, presence) is collected when
        // the runtime gets to it, not at once: keep watching the idle server for a while.
        const settleUntil = performance.now() + (IDLE_SETTLE_S - 6) * 1000;
        let settled = low;
        while (performance.now() < settleUntil) {
          await sleep(500);
          settled = Math.min(settled, rssKb(sys.serverPids));
        }
        res.settleS = IDLE_SETTLE_S;
        res.settledRssKb = settled;
        res.settledKibPerConnection = c.connected > 0 ? (settled - res.baselineRssKb) / c.connected : null;
        res.peakRssKb = sampler.stop();
        this.log(
          `${def.id}: ${c.connected}/${res.requested} open in ${fmt(c.elapsedMs / 1000)} s (${fmt(c.openPerSec, 0)}/s), RSS ${fmt(res.baselineRssKb / 1024)} → ${fmt(low / 1024)} MiB = ${fmt(res.kibPerConnection ?? NaN, 2)} KiB/conn; settled (${IDLE_SETTLE_S} s) ${fmt(settled / 1024)} MiB = ${fmt(res.settledKibPerConnection ?? NaN, 2)} KiB/conn, idle CPU ${fmt(res.idleCpuPct)}%`,
        );
      });
    } catch (err) {
      res.error = (err as Error).message;
      this.log(`error: ${res.error}`);
    }
    return res;
  }

  /** Parley (redis engine) on workload b under --cpu-prof, summarised by self time. */
  async runProfile(rate: number): Promise<ProfileSummary | undefined> {
    const def = systemById('parley-redis');
    const wl = WORKLOADS.find((w) => w.id === 'b')!;
    const dir = join(this.benchRoot, '.work/profiles', this.stamp + '-' + Date.now());
    mkdirSync(dir, { recursive: true });
    this.log(`=== CPU profile: ${def.label}, workload b at ${rate} msg/s`);
    const ctx: Context = { ...this.ctx, cpuProfileDir: dir };
    let rec: StepRecord | null = null;
    try {
      rec = await this.withSystem(def, ctx, async (sys, gen) => {
        await gen.connect(this.connectRequest(def, wl, sys, 0));
        return this.step(def, wl, sys, gen, rate, 'profile');
      });
    } catch (err) {
      this.log(`profile run failed: ${(err as Error).message}`);
    }
    const window = this.lastWindow;
    const summary = summariseProfiles(dir, window, this.repoRoot);
    if (summary === undefined) return undefined;
    for (const c of summary.byCategory.slice(0, 8)) this.log(`profile ${fmt(c.selfPct).padStart(5)}%  ${c.category}`);
    for (const t of summary.top.slice(0, 15))
      this.log(`profile ${fmt(t.selfPct).padStart(5)}%  ${t.name}  ${t.location}`);
    return {
      system: def.id,
      workload: 'b',
      rate,
      step: rec,
      ...summary,
      files: summary.files.map((f) => relative(this.repoRoot, f)),
    };
  }

  /** Workload e, f or g: every size (e, f) on every system it runs, results saved as they come. */
  async runStorm(id: string): Promise<void> {
    const r = this.results;
    const deps: StormDeps = { ctx: this.ctx, settings: this.args.settings.storms!, log: (l) => this.log(l) };
    const systems = (fallback: string[]) =>
      (this.args.systemsGiven ? this.args.systems.filter((x) => id !== 'g' || fallback.includes(x)) : fallback).map(
        systemById,
      );
    if (id === 'e') {
      const out = (r.bigRoom ??= []);
      await runBigRooms(deps, systems(CROWD_SYSTEMS), (x) => {
        out.push(x);
        this.save();
      });
    } else if (id === 'f') {
      const out = (r.joinStorm ??= []);
      await runJoinStorms(deps, systems(CROWD_SYSTEMS), (x) => {
        out.push(x);
        this.save();
      });
    } else if (id === 'g') {
      const out = (r.deployStorm ??= []);
      const defs = systems(DEPLOY_SYSTEMS);
      if (defs.length === 0) this.log(`workload g runs ${DEPLOY_SYSTEMS.join(' and ')}: none of them is in --systems`);
      for (const def of defs) {
        out.push(await runDeployStorm(deps, def));
        this.save();
      }
    }
  }

  save(): string[] {
    this.results.finishedAt = new Date().toISOString();
    this.results.durationS = (Date.now() - this.startedAt) / 1000;
    return writeReport(this.results, this.outDir, this.repoRoot);
  }
}

async function main(): Promise<void> {
  const render = process.argv.slice(2).find((a) => a.startsWith('--render='));
  if (render !== undefined) {
    const file = resolve(render.slice('--render='.length));
    const results = JSON.parse(readFileSync(file, 'utf8')) as Results;
    const written = writeReport(results, dirname(file), '');
    console.log(`rewrote ${written.map((f) => relative(process.cwd(), f)).join(', ')}`);
    return;
  }
  const args = parseArgs(process.argv.slice(2));
  const here = dirname(fileURLToPath(import.meta.url));
  const repoRoot = findRepoRoot(here);
  const benchRoot = join(repoRoot, 'bench');
  // A run merged into an earlier file keeps its own files out of bench/results: with the same
  // date they would overwrite the very file it is merged into.
  const outDir =
    args.out !== '' ? resolve(args.out) : join(benchRoot, args.mergeInto !== undefined ? '.work/partial' : 'results');
  mkdirSync(outDir, { recursive: true });

  // Checked first: finding out after half an hour of measuring that the file is not there loses the run.
  if (args.mergeInto !== undefined && !existsSync(args.mergeInto))
    throw new Error(`--merge-into: no such file ${args.mergeInto} (a relative path is taken from bench/)`);
  const stamp = new Date().toISOString().slice(0, 10);
  const ctxCheck: Context = { repoRoot, benchRoot, serverCpus: args.serverCpus, auxCpus: args.auxCpus, echo: false };
  if (!existsSync(parleyServerScript(ctxCheck)))
    throw new Error('apps/server/dist/server.js is missing: run `pnpm build` first (pnpm bench does)');
  if (args.systems.some((s) => s.startsWith('django'))) {
    const problem = prepareDjango(repoRoot, (l) => console.log(l));
    if (problem !== undefined) console.warn(`Django Channels reference unavailable: ${problem}`);
  }

  const bench = new Bench(args, repoRoot, benchRoot, outDir, stamp);
  const isStorm = (w: string) => STORM_WORKLOADS.some((x) => x.id === w);
  // A run of e, f and g alone has a file of its own: it must not replace the day's main results.
  if (args.workloads.every(isStorm)) bench.results.label = args.settings.mode === 'quick' ? 'storms-quick' : 'storms';
  if (args.mergeInto !== undefined) bench.results.label = 'partial';
  // The harness itself stays off the server core (after the machine facts: nproc honours it).
  try {
    execFileSync('taskset', ['-cp', args.auxCpus, String(process.pid)], { stdio: 'ignore' });
  } catch {
    console.warn('taskset failed: processes are not pinned, results are not comparable');
  }
  const r = bench.results;
  const s = args.settings;
  const argText = process.argv
    .slice(2)
    .filter((a) => a !== '--')
    .join(' ');
  r.commands.push(
    `pnpm bench${argText === '' ? '' : ' ' + argText}   # = pnpm --filter @parley/server... run build && tsc -p bench/tsconfig.build.json && node bench/dist/src/cli.js${argText === '' ? '' : ' ' + argText}`,
    `servers:    taskset -c ${args.serverCpus} node ${parleyNodeArgs(ctxCheck, 'parley').join(' ')} apps/server/dist/server.js   (flags from its start script; PORT=<free> HOST=127.0.0.1 LOG_LEVEL=warn ROOM_TTL_SECONDS=900 RATE_LIMIT_PER_CONNECTION=0 RATE_LIMIT_PER_IP=0 MAX_CONNECTIONS=0 MAX_CONNECTIONS_PER_IP=0 DRAIN_MS=500 [REDIS_URL=redis://127.0.0.1:<port>]; history on, HISTORY_LENGTH default 1000)`,
    `            taskset -c ${args.serverCpus} node bench/dist/peers/socketio-server.js   (REDIS_URL=…)   |   taskset -c ${args.serverCpus} node bench/dist/peers/ws-server.js`,
    `            taskset -c ${args.serverCpus} /usr/bin/python3 -m daphne -b 127.0.0.1 -p <free> mysite.asgi:application   (copy of ../shared/peers/django-channels, migrated; REDIS_PORT=…, CONSUMER=sync|async)`,
    `redis:      taskset -c ${args.auxCpus} redis-server --port <free> --bind 127.0.0.1 --save '' --appendonly no   (a fresh one per system and workload)`,
    `generator:  taskset -c ${args.auxCpus} node bench/dist/src/loadgen.js   (one process, driven over IPC by the harness)`,
  );
  if (args.workloads.includes('g'))
    r.commands.push(
      `g:          two instances of the system on one redis-server, both taskset -c ${args.serverCpus} (Parley: the env above with DRAIN_MS=${s.storms!.deployDrainMs}); the first gets SIGTERM`,
    );
  if (!args.workloads.every(isStorm))
    r.notes.push(
      `Steps: ${s.warmupMs} ms warm-up, ${s.durationMs} ms measured (longer at very low rates, so that at least 40 messages are measured), up to ${s.drainMs} ms drain. ` +
        `Search: start near the system's expected scale, ×¼ down until a pass, ×2 up until a fail, ${s.bisections} geometric bisections, then ${s.repeats} runs at the candidate; ` +
        `it holds when no run lost a message and the median p99 is under ${s.p99LimitMs} ms; otherwise the next lower passing rate is tried.`,
      `Sustainable: delivery ratio ≥ ${s.minRatio * 100}% (exactly 100% and no duplicates for Parley, which promises no loss), p99 < ${s.p99LimitMs} ms, every client connected, the generator keeping up with the offered rate.`,
    );
  r.notes.push(
    'Parley clients speak parley.v1 (the welcome, acks and message frames); Django and the raw ws server the reference protocol; Socket.IO its wire protocol (Engine.IO 4 over WebSocket) spoken by the same generator over WebSocket (its own minimal client, src/wire-client.ts, since 2026-12-06; `ws` before, and still in workload g).',
    '"other" CPU is what processes outside the benchmark used during a step (from /proc/stat): other people test on this machine, and steps with high "other" are noisy.',
  );

  const cleanExit = async (code: number) => {
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => {
    console.error('\ninterrupted: stopping every process this run started');
    bench.save();
    void cleanExit(130);
  });
  process.on('SIGTERM', () => void cleanExit(143));
  process.on('exit', killAllNow);

  if (args.profileOnly !== undefined) {
    r.runs = [];
    r.workloads = [];
    const p = await bench.runProfile(args.profileOnly);
    if (p !== undefined) r.profile = p;
    const files = bench.save();
    console.log(`\nresults: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    await stopAll();
    return;
  }
  if (args.costOnly || (args.workloads.includes('b') && s.commonRate > 0)) {
    r.cost = await bench.runCostRounds(args.systems, Math.max(1, s.repeats));
    if (!args.costOnly) bench.save();
  }
  if (args.costOnly) {
    r.runs = [];
    const files = args.mergeInto !== undefined ? mergeInto(args.mergeInto, r, argText, args.mergeReason) : bench.save();
    console.log(`\nresults: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
    await stopAll();
    return;
  }
  for (const wid of args.workloads) {
    if (isStorm(wid)) {
      await bench.runStorm(wid);
      bench.save();
      continue;
    }
    const wl = WORKLOADS.find((w) => w.id === wid)!;
    for (const sid of args.systems) {
      const def = systemById(sid);
      if (wl.idle) r.idle.push(await bench.runIdle(def, wl));
      else {
        let run = await bench.runWorkload(def, wl);
        if (run.error?.includes(' exited (') && bench.budgetLeftMs > 0) {
          // A server that died (a crash, or another user's clean-up killing it) is reported and
          // the system measured once more from a fresh start.
          r.notes.push(
            `${def.id} on workload ${wl.id}: the first attempt stopped after ${run.durationS.toFixed(0)} s because ${run.error.split('\n')[0]}; it was run again from a fresh start.`,
          );
          bench.log(`${def.id} went down; running workload ${wl.id} again from a fresh start`);
          run = await bench.runWorkload(def, wl);
        }
        r.runs.push(run);
      }
      bench.save();
    }
  }
  // A search whose limit was set by a failure during heavy outside load measured the machine,
  // not the system: run those once more at the end (within a little extra time), keeping the
  // first attempt in `superseded`.
  for (const [i, run] of r.runs.entries()) {
    if (!noiseLimited(run) || bench.budgetLeftMs < -s.redoMinutes * 60_000) continue;
    const wl = WORKLOADS.find((w) => w.id === run.workload)!;
    bench.log(
      `${run.system} on ${run.workload} was limited by outside load (${run.search?.bound}); measuring it again`,
    );
    const again = await bench.runWorkload(systemById(run.system), wl, true);
    (r.superseded ??= []).push(run);
    r.runs[i] = again;
    r.notes.push(
      `${run.system} on workload ${run.workload} was measured again at the end of the run because its first search was limited by outside load (${run.search?.bound}); the first attempt is in the JSON under "superseded".`,
    );
    bench.save();
  }
  if (args.profile && args.systems.includes('parley-redis') && !args.workloads.every(isStorm)) {
    const max = r.runs.find((x) => x.workload === 'b' && x.system === 'parley-redis')?.search?.maxRate;
    const rate = nice(max != null ? max / 2 : s.commonRate);
    const p = await bench.runProfile(rate);
    if (p !== undefined) r.profile = p;
  }
  const files = bench.save();
  console.log(`\nresults: ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  if (args.mergeInto !== undefined) {
    const merged = mergeInto(args.mergeInto, r, argText, args.mergeReason);
    console.log(`merged into ${merged.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  await stopAll();
}

/** Replaces the matching system/workload results of an earlier run with this run's, keeping the old ones as superseded. */
function mergeInto(file: string, r: Results, argText: string, reason: string | undefined): string[] {
  const target = JSON.parse(readFileSync(file, 'utf8')) as Results;
  const when = new Date().toISOString().slice(11, 16);
  const why = reason ?? 'the first measurement was limited by outside load';
  // Who measured what is merged: said once in a note of its own when there is a reason.
  const by =
    reason !== undefined ? 'the second invocation noted above' : `a second invocation (\`pnpm bench ${argText}\`)`;
  if (reason !== undefined)
    target.notes.push(`Second invocation at ${when} UTC (\`pnpm bench ${argText}\`): ${reason}.`);
  for (const run of r.runs) {
    if (run.skipped !== undefined) continue;
    const i = target.runs.findIndex((x) => x.system === run.system && x.workload === run.workload);
    if (i >= 0) (target.superseded ??= []).push(target.runs[i]!);
    if (i >= 0) target.runs[i] = run;
    else target.runs.push(run);
    target.notes.push(
      `${run.system} on workload ${run.workload}: re-measured at ${when} UTC by ${by}${reason !== undefined ? '' : `, because ${why}`}; the first attempt is in the JSON under "superseded".`,
    );
  }
  if (r.cost !== undefined && r.cost.length > 0) {
    // Only the systems measured again are replaced (a comparison is fairest in one invocation:
    // re-run every system with --cost-only after changing one).
    const again = new Set(r.cost.map((c) => c.system));
    const [replaced, kept] = [
      (target.cost ?? []).filter((c) => again.has(c.system)),
      (target.cost ?? []).filter((c) => !again.has(c.system)),
    ];
    if (replaced.length > 0) (target.supersededCost ??= []).push(...replaced);
    // Samples of earlier versions carry no rate: it was the settings' one.
    for (const c of target.cost ?? []) c.rate ??= target.settings.commonRate;
    target.cost = [...kept, ...r.cost];
    target.settings.commonRates = [...new Set(target.cost.map((c) => c.rate!))].sort((a, b) => a - b);
    target.settings.commonRate = target.settings.commonRates[0]!;
    target.notes.push(`The cost comparison of ${[...again].join(', ')} was measured at ${when} UTC by ${by}.`);
  }
  if (r.profile !== undefined) target.profile = r.profile;
  // Workloads e, f and g: a row of the same system (and size) is replaced.
  const mergeRows = <T extends { system: string; members?: number }>(into: T[] | undefined, rows: T[] | undefined) => {
    const out = [...(into ?? [])];
    for (const row of rows ?? []) {
      const i = out.findIndex((x) => x.system === row.system && x.members === row.members);
      if (i >= 0) out[i] = row;
      else out.push(row);
    }
    return out;
  };
  if (r.bigRoom !== undefined) target.bigRoom = mergeRows(target.bigRoom, r.bigRoom);
  if (r.joinStorm !== undefined) target.joinStorm = mergeRows(target.joinStorm, r.joinStorm);
  if (r.deployStorm !== undefined) target.deployStorm = mergeRows(target.deployStorm, r.deployStorm);
  if (target.settings.storms === undefined && r.settings.storms !== undefined)
    target.settings.storms = r.settings.storms;
  for (const idle of r.idle) {
    const i = target.idle.findIndex((x) => x.system === idle.system);
    if (i >= 0) target.idle[i] = idle;
    else target.idle.push(idle);
  }
  if (r.idle.length > 0) {
    target.notes.push(`Workload d of ${r.idle.map((x) => x.system).join(', ')} was measured at ${when} UTC by ${by}.`);
  }
  target.commands.push(`pnpm bench ${argText}   # second invocation, merged at ${when} UTC`);
  writeFileSync(file, JSON.stringify(target, null, 1) + '\n');
  return writeReport(target, dirname(file), '');
}

main().catch(async (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  await stopAll();
  process.exit(1);
});
