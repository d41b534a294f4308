// One measured run: a fresh server (memory or Redis engine), the room seeded when the attack
// needs it, the neighbour chatting throughout, and these windows:
//   warm-up → quiet (neighbour alone) → attack (the attacker at work) → after (attack over).
// The neighbour's p99 in the attack window against its quiet p99 is the goal; the server's RSS,
// CPU, log growth and survival and the attacker's own tally show what the limits did.
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { machineBusyMs } from '../machine.ts';
import { cpuMs, sleep } from '../proc.ts';
import type { Context } from '../systems.ts';
import { NEEDS_SEED } from './attacks.ts';
import { Child, type ChildEvent } from './child.ts';
import type { NeighbourConfig } from './neighbour.ts';
import { seedRoom } from './seed.ts';
import { fileBytes, parleyMetrics, probe, rssOf, startTarget, type TargetServer } from './target.ts';
import {
  ADDRESSES,
  type AttackId,
  type AttackOutcome,
  type AttackRequest,
  type AttackRun,
  type AttackSettings,
  type AttackSystem,
  type NeighbourWindow,
  type ServerFigures,
} from './types.ts';

export const NEIGHBOUR_ROOM = 'neighbours';
export const SEED_ROOM = 'archive';

export interface RunPaths {
  /** The server's dist/server.js. */
  script: string;
  /** Directory for the server's log files. */
  logDir: string;
}

/** Samples one process's VmRSS every 100 ms and keeps the peak. */
class PeakRss {
  peak = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 100);
  }
  private sample(): void {
    this.peak = Math.max(this.peak, rssOf(this.pid));
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** CPU counters at one moment, to turn into % of a core over a window. */
interface Clock {
  at: number;
  server: number;
  redis: number;
  helpers: number;
  machine: number;
}

function clock(server: TargetServer, helpers: number[]): Clock {
  const own = process.cpuUsage();
  return {
    at: performance.now(),
    server: cpuMs(server.pid),
    redis: server.redis === undefined ? 0 : cpuMs(server.redis.process.pid),
    helpers: helpers.reduce((sum, pid) => sum + cpuMs(pid), 0) + (own.user + own.system) / 1000,
    machine: machineBusyMs(),
  };
}

const pct = (ms: number, window: number) => Math.round((ms / window) * 1000) / 10;

/** CPU that processes outside this benchmark used between two clocks, % of one core. */
function otherPct(from: Clock, to: Clock): number {
  const ours = to.server - from.server + (to.redis - from.redis) + (to.helpers - from.helpers);
  return Math.max(0, pct(to.machine - from.machine - ours, to.at - from.at));
}

/**
 * Waits (up to `maxWaitMs`) for two seconds in a row in which processes outside this benchmark
 * use less than `thresholdPct` of a core: other people use this machine too, and a run is only
 * as good as its quiet window. Returns how long it waited and the last second's figure.
 */
export async function waitForQuietMachine(
  maxWaitMs: number,
  thresholdPct: number,
): Promise<{ waitedMs: number; otherPct: number }> {
  const started = performance.now();
  let calmSeconds = 0;
  for (;;) {
    const own0 = process.cpuUsage();
    const machine0 = machineBusyMs();
    const t0 = performance.now();
    await sleep(1000);
    const own = process.cpuUsage(own0);
    const other = Math.max(0, pct(machineBusyMs() - machine0 - (own.user + own.system) / 1000, performance.now() - t0));
    calmSeconds = other < thresholdPct ? calmSeconds + 1 : 0;
    const waitedMs = performance.now() - started;
    if (calmSeconds >= 2 || waitedMs >= maxWaitMs) return { waitedMs: Math.round(waitedMs - 2000), otherPct: other };
  }
}

/** The attacker and neighbour processes of one run, started and connected. */
interface Helpers {
  attacker: Child;
  neighbour: Child;
}

async function startHelpers(ctx: Context, server: TargetServer, s: AttackSettings): Promise<Helpers> {
  const helpers = { attacker: Child.start(ctx, 'attacker', true), neighbour: Child.start(ctx, 'neighbour') };
  try {
    await helpers.attacker.next('ready', 20_000);
    const config: NeighbourConfig = {
      base: `ws://127.0.0.1:${server.port}`,
      room: NEIGHBOUR_ROOM,
      localAddress: ADDRESSES.neighbour,
      rate: s.rate,
      senders: s.senders,
    };
    helpers.neighbour.send({ cmd: 'start', config });
    const ready = await helpers.neighbour.next<ChildEvent & { error?: string }>('ready', 20_000);
    if (ready.error !== undefined) throw new Error(ready.error);
    return helpers;
  } catch (err) {
    await Promise.all([helpers.attacker.stop(), helpers.neighbour.stop()]);
    throw err;
  }
}

/** What the harness watches on the server side through the windows. */
class ServerWatch {
  readonly clocks: Record<'quietStart' | 'quietEnd' | 'attackEnd', Clock | undefined> = {
    quietStart: undefined,
    quietEnd: undefined,
    attackEnd: undefined,
  };
  rssBeforeKb = 0;
  redisRssBeforeKb: number | undefined;
  logBytes = { attackStart: 0, attackEnd: 0 };
  private peak: PeakRss | undefined;
  private redisPeak: PeakRss | undefined;

  constructor(
    private readonly server: TargetServer,
    private readonly helperPids: number[],
  ) {}

  mark(name: keyof ServerWatch['clocks']): Clock {
    const c = clock(this.server, this.helperPids);
    this.clocks[name] = c;
    return c;
  }

  /** Before the quiet window: the memory baseline. */
  baseline(): void {
    this.rssBeforeKb = rssOf(this.server.pid);
    if (this.server.redis !== undefined) this.redisRssBeforeKb = rssOf(this.server.redis.process.pid);
  }

  /** At the attack's start: peak sampling begins. */
  attackStarts(): void {
    this.peak = new PeakRss(this.server.pid);
    if (this.server.redis !== undefined) this.redisPeak = new PeakRss(this.server.redis.process.pid);
    this.logBytes.attackStart = fileBytes(this.server.logFile);
  }

  attackEnds(): void {
    this.mark('attackEnd');
    this.logBytes.attackEnd = fileBytes(this.server.logFile);
  }

  /** Stops the samplers (always called, also after a failure); returns the peaks. */
  stop(): { rssPeakKb: number; redisRssPeakKb: number | undefined } {
    return { rssPeakKb: this.peak?.stop() ?? 0, redisRssPeakKb: this.redisPeak?.stop() };
  }
}

/**
 * The windows: warm-up, quiet, attack (until the attacker says it stopped), after. Fills in the
 * neighbour's windows and the attacker's outcome.
 */
async function runWindows(
  run: AttackRun,
  server: TargetServer,
  { attacker, neighbour }: Helpers,
  watch: ServerWatch,
  s: AttackSettings,
): Promise<void> {
  neighbour.send({ cmd: 'phase', name: 'warmup' });
  await sleep(s.warmupMs);
  watch.baseline();
  watch.mark('quietStart');
  neighbour.send({ cmd: 'phase', name: 'quiet' });
  await sleep(s.quietMs);
  watch.mark('quietEnd');

  const request: AttackRequest = {
    attack: run.attack,
    durationMs: s.attackMs,
    target: {
      host: '127.0.0.1',
      port: server.port,
      localAddress: ADDRESSES.attacker,
      neighbourRoom: NEIGHBOUR_ROOM,
      seedRoom: SEED_ROOM,
    },
  };
  watch.attackStarts();
  neighbour.send({ cmd: 'phase', name: 'attack' });
  attacker.send({ cmd: 'run', request });
  await attacker.next('stopped', s.attackMs + 30_000);
  watch.attackEnds();
  neighbour.send({ cmd: 'phase', name: 'after' });
  const afterStart = performance.now();
  // The attacker cleans up (and reports) during the "after" window.
  const done = await attacker.next<ChildEvent & { outcome?: AttackOutcome; error?: string }>('done', 30_000);
  if (done.outcome !== undefined) run.attacker = done.outcome;
  else run.error = `attacker failed: ${done.error}`;
  await sleep(s.afterMs - (performance.now() - afterStart));

  neighbour.send({ cmd: 'finish', windows: ['quiet', 'attack', 'after'], drainMs: s.drainMs });
  const { windows } = await neighbour.next<ChildEvent & { windows: NeighbourWindow[] }>('windows', s.drainMs + 15_000);
  run.quiet = windows.find((w) => w.phase === 'quiet');
  run.underAttack = windows.find((w) => w.phase === 'attack');
  run.after = windows.find((w) => w.phase === 'after');
}

/** The server's side of a finished run: memory, CPU, log growth, and whether it is still up. */
async function serverFigures(server: TargetServer, watch: ServerWatch): Promise<ServerFigures> {
  const { quietStart: q0, quietEnd: q1, attackEnd: a1 } = watch.clocks as Record<string, Clock>;
  const peaks = watch.stop();
  const down = server.down();
  const ready = down === undefined ? (await probe(server.port, '/readyz')).status : 0;
  const metricsAfter = down === undefined ? await parleyMetrics(server.port) : undefined;
  return {
    pid: server.pid,
    rssBeforeKb: watch.rssBeforeKb,
    rssPeakKb: peaks.rssPeakKb,
    rssAfterKb: rssOf(server.pid),
    cpuPctQuiet: pct(q1!.server - q0!.server, q1!.at - q0!.at),
    cpuPctAttack: pct(a1!.server - q1!.server, a1!.at - q1!.at),
    logBytesAttack: watch.logBytes.attackEnd - watch.logBytes.attackStart,
    ...(watch.redisRssBeforeKb === undefined
      ? {}
      : { redisRssBeforeKb: watch.redisRssBeforeKb, redisRssPeakKb: peaks.redisRssPeakKb ?? 0 }),
    survived: down === undefined && ready === 200,
    ...(metricsAfter === undefined ? {} : { metricsAfter }),
    ...(down === undefined ? {} : { exit: down }),
  };
}

/** Runs one attack against one fresh system; never throws (a failure is the run's `error`). */
export async function runOne(
  ctx: Context,
  system: AttackSystem,
  attack: AttackId,
  s: AttackSettings,
  paths: RunPaths,
  log: (line: string) => void = () => {},
): Promise<AttackRun> {
  const started = Date.now();
  const run: AttackRun = {
    system,
    attack,
    startedAt: new Date(started).toISOString(),
    durationS: 0,
    p99Ratio: null,
    goalMet: false,
  };
  let server: TargetServer | undefined;
  let helpers: Helpers | undefined;
  let watch: ServerWatch | undefined;
  try {
    server = await startTarget(ctx, system, {
      script: paths.script,
      logLevel: s.logLevel,
      logFile: join(paths.logDir, `${system}-${attack}.log`),
    });
    if (NEEDS_SEED.has(attack)) {
      run.seed = await seedRoom(server.port, SEED_ROOM, s.seedMessages, s.seedTextBytes);
      log(
        `  seeded ${run.seed.stored} × ${s.seedTextBytes} B in ${(run.seed.elapsedMs / 1000).toFixed(1)} s; a since=0-0 welcome is ${(run.seed.welcomeBytes / 1e6).toFixed(2)} MB (${run.seed.welcomeMessages} messages)`,
      );
    }
    helpers = await startHelpers(ctx, server, s);
    watch = new ServerWatch(server, [helpers.attacker.pid, helpers.neighbour.pid]);
    await runWindows(run, server, helpers, watch, s);
    const { quietStart, quietEnd, attackEnd } = watch.clocks;
    run.otherCpuPctQuiet = otherPct(quietStart!, quietEnd!);
    run.otherCpuPctAttack = otherPct(quietEnd!, attackEnd!);
    run.server = await serverFigures(server, watch);
    judge(run, s.goalFactor);
  } catch (err) {
    run.error = (err as Error).message;
    const down = server?.down();
    if (down !== undefined) run.error += `\n${down}`;
  } finally {
    watch?.stop();
    await Promise.all([helpers?.attacker.stop(), helpers?.neighbour.stop()]);
    await server?.stop();
    run.durationS = Math.round((Date.now() - started) / 100) / 10;
  }
  return run;
}

/** The goal: the neighbour's p99 under attack within `factor` × its quiet p99 (unacked = infinitely late). */
function judge(run: AttackRun, factor: number): void {
  const quiet = run.quiet?.ack.p99;
  const attacked = run.underAttack?.ack.p99;
  if (quiet === null || quiet === undefined || attacked === null || attacked === undefined || quiet <= 0) {
    run.p99Ratio = null;
    run.goalMet = false;
    return;
  }
  run.p99Ratio = Math.round((attacked / quiet) * 100) / 100;
  run.goalMet = run.p99Ratio <= factor && run.server?.survived === true;
}
