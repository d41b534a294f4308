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
import { ADDRESSES, type AttackId, type AttackOutcome, type AttackRequest, type AttackRun, type AttackSettings, type AttackSystem, type NeighbourWindow } from './types.ts';

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
export async function waitForQuietMachine(maxWaitMs: number, thresholdPct: number): Promise<{ waitedMs: number; otherPct: number }> {
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

/** Runs one attack against one fresh system; never throws (a failure is the run's `error`). */
export async function runOne(ctx: Context, system: AttackSystem, attack: AttackId, s: AttackSettings, paths: RunPaths, log: (line: string) => void = () => {}): Promise<AttackRun> {
  const started = Date.now();
  const run: AttackRun = { system, attack, startedAt: new Date(started).toISOString(), durationS: 0, p99Ratio: null, goalMet: false };
  let server: TargetServer | undefined;
  let attacker: Child | undefined;
  let neighbour: Child | undefined;
  try {
    server = await startTarget(ctx, system, { script: paths.script, logLevel: s.logLevel, logFile: join(paths.logDir, `${system}-${attack}.log`) });
    if (NEEDS_SEED.has(attack)) {
      run.seed = await seedRoom(server.port, SEED_ROOM, s.seedMessages, s.seedTextBytes);
      log(`  seeded ${run.seed.stored} × ${s.seedTextBytes} B in ${(run.seed.elapsedMs / 1000).toFixed(1)} s; a since=0-0 welcome is ${(run.seed.welcomeBytes / 1e6).toFixed(2)} MB (${run.seed.welcomeMessages} messages)`);
    }
    attacker = Child.start(ctx, 'attacker', 10);
    neighbour = Child.start(ctx, 'neighbour');
    await attacker.next('ready', 20_000);
    const config: NeighbourConfig = { base: `ws://127.0.0.1:${server.port}`, room: NEIGHBOUR_ROOM, localAddress: ADDRESSES.neighbour, rate: s.rate, senders: s.senders };
    neighbour.send({ cmd: 'start', config });
    const ready = await neighbour.next<ChildEvent & { error?: string }>('ready', 20_000);
    if (ready.error !== undefined) throw new Error(ready.error);

    const helpers = [attacker.pid, neighbour.pid];
    neighbour.send({ cmd: 'phase', name: 'warmup' });
    await sleep(s.warmupMs);
    const rssBefore = rssOf(server.pid);
    const redisRssBefore = server.redis === undefined ? undefined : rssOf(server.redis.process.pid);
    const q0 = clock(server, helpers);
    neighbour.send({ cmd: 'phase', name: 'quiet' });
    await sleep(s.quietMs);
    const q1 = clock(server, helpers);

    const peak = new PeakRss(server.pid);
    const redisPeak = server.redis === undefined ? undefined : new PeakRss(server.redis.process.pid);
    const log0 = fileBytes(server.logFile);
    const request: AttackRequest = {
      attack,
      durationMs: s.attackMs,
      target: { host: '127.0.0.1', port: server.port, localAddress: ADDRESSES.attacker, neighbourRoom: NEIGHBOUR_ROOM, seedRoom: SEED_ROOM },
    };
    neighbour.send({ cmd: 'phase', name: 'attack' });
    attacker.send({ cmd: 'run', request });
    await attacker.next('stopped', s.attackMs + 30_000);
    const a1 = clock(server, helpers);
    const log1 = fileBytes(server.logFile);
    neighbour.send({ cmd: 'phase', name: 'after' });
    const afterStart = performance.now();
    const done = await attacker.next<ChildEvent & { outcome?: AttackOutcome; error?: string }>('done', 30_000);
    if (done.outcome !== undefined) run.attacker = done.outcome;
    else run.error = `attacker failed: ${done.error}`;
    await sleep(s.afterMs - (performance.now() - afterStart));

    neighbour.send({ cmd: 'finish', windows: ['quiet', 'attack', 'after'], drainMs: s.drainMs });
    const { windows } = await neighbour.next<ChildEvent & { windows: NeighbourWindow[] }>('windows', s.drainMs + 15_000);
    run.quiet = windows.find((w) => w.phase === 'quiet');
    run.underAttack = windows.find((w) => w.phase === 'attack');
    run.after = windows.find((w) => w.phase === 'after');

    const attackWindow = a1.at - q1.at;
    run.otherCpuPctQuiet = otherPct(q0, q1);
    run.otherCpuPctAttack = otherPct(q1, a1);
    const down = server.down();
    const ready2 = down === undefined ? (await probe(server.port, '/readyz')).status : 0;
    const metricsAfter = down === undefined ? await parleyMetrics(server.port) : undefined;
    run.server = {
      pid: server.pid,
      rssBeforeKb: rssBefore,
      rssPeakKb: peak.stop(),
      rssAfterKb: rssOf(server.pid),
      cpuPctQuiet: pct(q1.server - q0.server, q1.at - q0.at),
      cpuPctAttack: pct(a1.server - q1.server, attackWindow),
      logBytesAttack: log1 - log0,
      ...(redisRssBefore === undefined ? {} : { redisRssBeforeKb: redisRssBefore, redisRssPeakKb: redisPeak!.stop() }),
      survived: down === undefined && ready2 === 200,
      ...(metricsAfter === undefined ? {} : { metricsAfter }),
      ...(down === undefined ? {} : { exit: down }),
    };
    judge(run, s.goalFactor);
  } catch (err) {
    run.error = (err as Error).message;
    const down = server?.down();
    if (down !== undefined) run.error += `\n${down}`;
  } finally {
    await Promise.all([attacker?.stop(), neighbour?.stop()]);
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
