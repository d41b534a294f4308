// Workload g, the deploy storm: two instances on one Redis, every client on the first, messages
// flowing; the first gets SIGTERM (as a deploy stops it) and its clients reconnect to the
// second with the web client's jittered backoff, `since` and token (src/storms/deploygen.ts).
// Measured: time until every client has recovered, messages missed against what was acked,
// and the Redis commands the recovery cost (INFO commandstats, less the flow's own rate).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GeneratorProcess } from '../genproc.ts';
import { sleep, stop, treeCpuMs, type Spawned } from '../proc.ts';
import {
  parleyEnv,
  parleyNodeArgs,
  parleyServerScript,
  startNodeServer,
  startRedis,
  type Context,
  type RunningRedis,
  type SystemDef,
} from '../systems.ts';
import type { StormDeps } from './crowd.ts';
import { commandDelta, cpuDelta, cpuSnapshot, redisCommandStats } from './probes.ts';
import type { DeployStormResult, RedisCommandCost } from './types.ts';

/** The systems workload g can run: Parley on Redis, and Socket.IO with its Redis adapter. */
export const DEPLOY_SYSTEMS = ['parley-redis', 'socketio'];

interface DeployPair {
  old: { process: Spawned; endpoint: string };
  next: { process: Spawned; endpoint: string };
  redis: RunningRedis;
  down(): string | undefined;
  stop(): Promise<void>;
}

/** Redis and two instances of the system on it, both pinned to the server core. */
async function startPair(ctx: Context, def: SystemDef, drainMs: number): Promise<DeployPair> {
  const redis = await startRedis(ctx);
  const started: Array<{ process: Spawned; endpoint: string }> = [];
  try {
    for (const i of [1, 2]) {
      started.push(
        def.protocol === 'v1'
          ? await startNodeServer(ctx, {
              name: `parley${i}`,
              script: parleyServerScript(ctx),
              env: {
                ...parleyEnv({ url: redis.url }),
                DRAIN_MS: String(drainMs),
                SHUTDOWN_TIMEOUT_MS: String(Math.max(10_000, drainMs + 5000)),
              },
              cpus: ctx.serverCpus,
              ready: '/readyz',
              nodeArgs: parleyNodeArgs(ctx, `parley${i}`),
            })
          : await startNodeServer(ctx, {
              name: `socketio${i}`,
              script: join(ctx.benchRoot, 'dist/peers/socketio-server.js'),
              env: { REDIS_URL: redis.url },
              cpus: ctx.serverCpus,
              ready: '/healthz',
            }),
      );
    }
  } catch (err) {
    await Promise.all(started.map((s) => stop(s.process)));
    await stop(redis.process);
    throw err;
  }
  const [old, next] = started as [DeployPair['old'], DeployPair['next']];
  return {
    old,
    next,
    redis,
    down: () => {
      for (const p of [next.process, redis.process]) {
        const { exitCode, signalCode } = p.child;
        if (exitCode !== null || signalCode !== null)
          return `${p.name} exited (${signalCode ?? `code ${exitCode}`}):\n${p.tail()}`;
      }
      return undefined;
    },
    stop: async () => {
      await Promise.all([stop(old.process, 15_000), stop(next.process, 15_000)]);
      await stop(redis.process);
    },
  };
}

const fmt = (n: number, digits = 1): string => (Number.isFinite(n) ? n.toFixed(digits) : String(n));
const sumOf = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** Workload g on one system. */
export async function runDeployStorm(deps: StormDeps, def: SystemDef): Promise<DeployStormResult> {
  const s = deps.settings;
  const t0 = Date.now();
  const perRoom = Math.ceil(s.deployClients / s.deployRooms);
  const result: DeployStormResult = {
    system: def.id,
    label: `${def.label}: instance 1 stopped, instance 2 takes over`,
    protocol: def.protocol,
    clients: perRoom * s.deployRooms,
    rooms: s.deployRooms,
    rate: s.deployRate,
    drainMs: s.deployDrainMs,
    backoff: s.deployBackoff,
    connect: null,
    recovery: null,
    outcome: null,
    durationS: 0,
  };
  if (!DEPLOY_SYSTEMS.includes(def.id))
    return { ...result, skipped: `workload g runs ${DEPLOY_SYSTEMS.join(' and ')}` };
  if (def.protocol !== 'v1' && def.protocol !== 'socketio') return { ...result, skipped: 'protocol' };
  const protocol = def.protocol;
  deps.log(
    `=== workload g · ${def.id}, two instances on one Redis: ${result.clients.toLocaleString('en-US')} clients in ${s.deployRooms} rooms, ${s.deployRate} msg/s; instance 1 gets SIGTERM`,
  );
  let pair: DeployPair | undefined;
  let gen: GeneratorProcess | undefined;
  try {
    pair = await startPair(deps.ctx, def, s.deployDrainMs);
    gen = GeneratorProcess.start(deps.ctx);
    const c = await gen.deployConnect({
      endpoint: pair.old.endpoint,
      takeover: pair.next.endpoint,
      protocol,
      rooms: s.deployRooms,
      clientsPerRoom: perRoom,
      sendersPerRoom: 1,
      roomPrefix: 'g',
      concurrency: 200,
      timeoutMs: Math.max(120_000, result.clients * 20),
      backoff: s.deployBackoff,
      textBytes: 64,
    });
    result.connect = c;
    deps.log(`g ${def.id}: ${c.connected}/${c.requested} connected to instance 1 in ${fmt(c.elapsedMs / 1000, 1)} s`);
    if (c.connected < c.requested)
      throw new Error(`only ${c.connected} of ${c.requested} connected: ${c.firstError ?? 'timed out'}`);

    await gen.deployStart(s.deployRate);
    await sleep(1000);
    const port = pair.redis.port;
    const cs0 = redisCommandStats(port);
    const b0 = performance.now();
    await sleep(s.deployBaselineMs);
    const cs1 = redisCommandStats(port);
    const b1 = performance.now();
    const baseline = commandDelta(cs0, cs1);
    const baselineSec = (b1 - b0) / 1000;

    // The old instance's CPU is read until it exits (its /proc entry goes with it).
    const oldPid = pair.old.process.pid;
    const oldCpu0 = treeCpuMs([oldPid]);
    let oldCpu = oldCpu0;
    const poll = setInterval(() => {
      const ms = treeCpuMs([oldPid]);
      if (ms > 0) oldCpu = ms;
    }, 100);
    const snap0 = cpuSnapshot([pair.next.process.pid], [pair.redis.process.pid], gen.pid);
    await gen.deployMark();
    const sigAt = performance.now();
    pair.old.process.child.kill('SIGTERM');
    const exited = pair.old.process.exited.then((code) => ({ code, afterMs: performance.now() - sigAt }));
    result.recovery = await gen.deployWait(Math.max(90_000, s.deployDrainMs + 60_000));
    const rec = result.recovery;
    let waitExit: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      exited,
      new Promise<undefined>((resolve) => (waitExit = setTimeout(() => resolve(undefined), 20_000))),
    ]);
    clearTimeout(waitExit);
    if (exit !== undefined) result.oldInstanceExit = exit;
    clearInterval(poll);
    const snap1 = cpuSnapshot([pair.next.process.pid], [pair.redis.process.pid], gen.pid);
    const cs2 = redisCommandStats(port);
    const windowMs = performance.now() - sigAt;
    const d = cpuDelta(snap0, snap1);
    result.cpu = {
      oldInstanceMs: oldCpu - oldCpu0,
      newInstanceMs: d.server,
      redisMs: d.redis,
      otherMs: Math.max(0, d.other - (oldCpu - oldCpu0)),
      windowMs,
    };
    result.redis = commandCost(baseline, baselineSec, commandDelta(cs1, cs2), windowMs, rec.recoveredClients);
    deps.log(
      `g ${def.id}: ${rec.recoveredClients}/${rec.clients} recovered ${rec.allRecovered ? 'all' : 'NOT all'} ${fmt(rec.lastRecoveredMs / 1000, 2)} s after SIGTERM ` +
        `(last drop at ${fmt(rec.lastDroppedMs / 1000, 2)} s; outage p50 ${fmt(rec.outageMs.p50, 0)} p99 ${fmt(rec.outageMs.p99, 0)} ms; recovered:false ${rec.recoveredFalse}; ` +
        `${rec.attempts} attempts, ${rec.failedAttempts} failed; hasNewer ${rec.hasNewer}, ${rec.pages} pages); ` +
        `old instance exited ${exit === undefined ? 'not within 20 s' : `(${exit.code}) after ${fmt(exit.afterMs / 1000, 2)} s`}; ` +
        `Redis ${fmt(result.redis.perClient, 1)} commands per recovering client (${result.redis.top.map((t) => `${t.command} ${fmt(t.perClient, 1)}`).join(', ')})`,
    );
    const down = pair.down();
    if (down !== undefined) throw new Error(down);

    await sleep(s.deployAfterMs);
    result.outcome = await gen.deployFinish(15_000);
    const o = result.outcome;
    deps.log(
      `g ${def.id}: sent ${o.sent}, acked ${o.acked}, unacked ${o.unacked}, resent ${o.resends}; deliveries ${o.delivered}/${o.expected}, ` +
        `missed ${o.missed} (${o.clientsMissing} clients), duplicates ${o.duplicates}, errors ${o.errors}${o.firstError ? ` (${o.firstError})` : ''}`,
    );
  } catch (err) {
    result.error = (err as Error).message;
    deps.log(`g ${def.id}: error: ${result.error.split('\n')[0]}`);
  } finally {
    await gen?.stop();
    await pair?.stop();
  }
  result.durationS = (Date.now() - t0) / 1000;
  return result;
}

/** The recovery window's Redis commands less the flow's own rate (measured before), per recovering client. */
function commandCost(
  baseline: Map<string, number>,
  baselineSec: number,
  window: Map<string, number>,
  windowMs: number,
  clients: number,
): RedisCommandCost {
  const sec = windowMs / 1000;
  const total = sumOf(window);
  const baselinePerSec = sumOf(baseline) / baselineSec;
  const net = total - baselinePerSec * sec;
  const per = Math.max(1, clients);
  const top = [...window.entries()]
    .map(([command, n]) => ({ command, perClient: (n - ((baseline.get(command) ?? 0) / baselineSec) * sec) / per }))
    .filter((x) => x.perClient >= 0.05)
    .sort((a, b) => b.perClient - a.perClient)
    .slice(0, 8);
  return { baselinePerSec, windowMs, total, net, perClient: net / per, top };
}
