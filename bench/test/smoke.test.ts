// Smoke test of the benchmark's load generator: Parley (memory engine, built server) under a
// tiny load in both of its protocols must deliver every message exactly once. Checks delivery,
// not speed. Runs in a few seconds; builds the server first if its dist is missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GeneratorProcess } from '../src/genproc.ts';
import { freePort, httpOk, spawnPinned, stop, waitFor, type Spawned } from '../src/proc.ts';
import type { Protocol } from '../src/protocols.ts';
import { markdown } from '../src/report.ts';
import { runBigRoom, runJoinStorms, type StormDeps } from '../src/storms/crowd.ts';
import { runDeployStorm } from '../src/storms/deploy.ts';
import { joinStormFits } from '../src/storms/report.ts';
import type { BigRoomResult, DeployStormResult, JoinStormResult, StormSettings } from '../src/storms/types.ts';
import { systemById, type Context } from '../src/systems.ts';
import type { Results } from '../src/types.ts';
import { machineFacts } from '../src/machine.ts';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(benchRoot, '..');
const serverScript = join(repoRoot, 'apps/server/dist/server.js');
const ctx: Context = { repoRoot, benchRoot, serverCpus: '', auxCpus: '', echo: false };

let server: Spawned | undefined;
let gen: GeneratorProcess | undefined;
let endpoint = '';

before(async () => {
  if (!existsSync(serverScript)) {
    const tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
    for (const pkg of ['packages/protocol', 'apps/server']) {
      const built = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, pkg, 'tsconfig.build.json')], {
        stdio: 'inherit',
      });
      assert.equal(built.status, 0, `building ${pkg} failed`);
    }
  }
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_CONNECTION: '0',
    RATE_LIMIT_PER_IP: '0',
    MAX_CONNECTIONS_PER_IP: '0',
  };
  delete env.REDIS_URL;
  delete env.NODE_OPTIONS;
  server = spawnPinned('parley', undefined, process.execPath, [serverScript], { env, cwd: repoRoot });
  await waitFor('parley /readyz', () => httpOk(`http://127.0.0.1:${port}/readyz`), 15_000, server);
  endpoint = `ws://127.0.0.1:${port}`;
  gen = GeneratorProcess.start(ctx);
});

after(async () => {
  await gen?.stop();
  if (server) await stop(server);
});

for (const protocol of ['reference', 'v1'] as Protocol[]) {
  test(`every message reaches every client of its room (${protocol})`, { timeout: 20_000 }, async () => {
    const connected = await gen!.connect({
      endpoints: [endpoint],
      protocol,
      rooms: 2,
      clientsPerRoom: 3,
      sendersPerRoom: 2,
      roomPrefix: `smoke${protocol === 'v1' ? 'v' : 'r'}`,
      concurrency: 6,
      timeoutMs: 10_000,
    });
    assert.equal(connected.connected, 6, connected.firstError);
    let phases = 0;
    gen!.onPhase = () => (phases += 1);
    const r = await gen!.run({ rate: 40, warmupMs: 300, durationMs: 1500, drainMs: 3000, textBytes: 64 });
    assert.equal(phases, 2, 'the generator reports the start and end of its measured window');
    assert.ok(r.sent >= 40, `sent ${r.sent} messages`);
    assert.equal(r.expected, r.sent * 3);
    assert.equal(r.delivered, r.expected);
    assert.equal(r.ratio, 1);
    assert.equal(r.duplicates, 0);
    assert.equal(r.errors, 0, r.firstError);
    assert.equal(r.disconnects, 0);
    if (protocol === 'v1') assert.ok(r.acks >= r.sent, `acks ${r.acks} for ${r.sent} messages`);
    assert.ok(r.latencyMs.max > 0 && r.latencyMs.p50 <= r.latencyMs.max);
    await gen!.close();
  });
}

// Workloads e, f and g (big rooms and storms), scaled down: shapes, not speed.
const storms: StormSettings = {
  bigRoomSizes: [150, 450],
  bigRoomSenders: 5,
  bigRoomWarmupMs: 500,
  bigRoomDurationMs: 2000,
  joinConcurrency: 100,
  stormConcurrency: 200,
  deployClients: 300,
  deployRooms: 10,
  deployRate: 20,
  deployDrainMs: 500,
  deployBaselineMs: 1000,
  deployAfterMs: 1000,
  deployBackoff: { minMs: 500, maxMs: 10_000 },
};
const bigRoomRows: BigRoomResult[] = [];
const joinStormRows: JoinStormResult[] = [];
const deployRows: DeployStormResult[] = [];

test('e: every message reaches every member of a big room', { timeout: 60_000 }, async (t) => {
  const deps: StormDeps = { ctx, settings: storms, log: (l) => t.diagnostic(l) };
  const r = await runBigRoom(deps, systemById('parley-memory'), 300);
  bigRoomRows.push(r);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.join?.connected, 300);
  const s = r.step!;
  assert.ok(s.sent >= 5, `sent ${s.sent} messages`);
  assert.equal(s.expected, s.sent * 300);
  assert.equal(s.delivered, s.expected);
  assert.equal(s.duplicates, 0);
  assert.equal(s.errors, 0, s.firstError);
  assert.ok(r.join!.totalBytes > 0 && r.join!.serverCpuMs >= 0);
  assert.ok(Number.isFinite(s.serverUsPerDelivery) && s.latencyMs.p99 > 0);
});

test('f: a welcome stays bounded whatever the size of the room', { timeout: 60_000 }, async (t) => {
  const deps: StormDeps = { ctx, settings: storms, log: (l) => t.diagnostic(l) };
  const rows = joinStormRows;
  await runJoinStorms(deps, [systemById('parley-memory')], (r) => rows.push(r));
  assert.deepEqual(
    rows.map((r) => [r.members, r.join?.connected, r.error]),
    storms.bigRoomSizes.map((n) => [n, n, undefined]),
  );
  const [small, large] = rows.map((r) => r.join!.joins!.readyBytes);
  // Both sizes are past WELCOME_MEMBERS_MAX (50): the welcome's member list is cut at 50.
  assert.ok(large!.max <= small!.max + 512, `welcome ${large!.max} B at 450 vs ${small!.max} B at 150`);
  assert.ok(large!.max < 16 * 1024, `welcome of ${large!.max} B`);
  assert.ok(rows.every((r) => r.join!.parleyPayloadBytes! > 0 && r.join!.totalBytes > r.join!.parleyPayloadBytes!));
  const fit = joinStormFits(rows)[0]!;
  assert.ok(fit.bytes !== null && Number.isFinite(fit.bytes), 'a growth exponent from the two sizes');
});

test('g: after a deploy every client recovers and no acked message is missed', { timeout: 120_000 }, async (t) => {
  if (spawnSync('redis-server', ['--version']).status !== 0) return t.skip('redis-server is not installed');
  const deps: StormDeps = { ctx, settings: storms, log: (l) => t.diagnostic(l) };
  const r = await runDeployStorm(deps, systemById('parley-redis'));
  assert.equal(r.error, undefined, r.error);
  const rec = r.recovery!;
  assert.equal(rec.allRecovered, true, `${rec.recoveredClients} of ${rec.clients} recovered`);
  assert.equal(rec.recoveredFalse, 0);
  assert.equal(rec.neverDropped, 0);
  const o = r.outcome!;
  assert.ok(o.acked > 20, `acked ${o.acked}`);
  assert.equal(o.unacked, 0);
  assert.equal(o.missed, 0, `${o.missed} deliveries missed by ${o.clientsMissing} clients`);
  assert.equal(o.duplicates, 0);
  assert.equal(o.delivered, o.expected);
  assert.ok(Number.isFinite(r.redis!.perClient), 'Redis commands per recovering client');
  deployRows.push(r);
});

test('the results file has a table for each of e, f and g, with the machine and the command', () => {
  const results: Results = {
    version: 1,
    date: 'smoke',
    label: 'storms',
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: 0,
    machine: machineFacts(repoRoot, benchRoot, '', ''),
    commands: ['pnpm bench --workloads=e,f,g (scaled down)'],
    settings: {
      mode: 'quick',
      warmupMs: 0,
      durationMs: 0,
      drainMs: 0,
      textBytes: 64,
      repeats: 1,
      bisections: 0,
      maxStepsPerSearch: 0,
      commonRate: 0,
      idleConnections: 0,
      p99LimitMs: 100,
      minRatio: 0.999,
      noisyOtherPct: 30,
      noisyRetries: 0,
      redoMinutes: 0,
      budgetMinutes: 0,
      storms,
    },
    workloads: [],
    systems: ['parley-memory', 'parley-redis'].map((id) => {
      const s = systemById(id);
      return { id, label: s.label, protocol: s.protocol };
    }),
    runs: [],
    idle: [],
    notes: [],
    bigRoom: bigRoomRows,
    joinStorm: joinStormRows,
    deployStorm: deployRows,
  };
  const md = markdown(results);
  for (const heading of ['## Machine', '## Commands', '## Workload e: one big room', '## Workload f: the join storm'])
    assert.ok(md.includes(heading), heading);
  assert.match(md, /\| parley-memory \| 300 \|/);
  assert.match(md, /Growth with N/);
  if (deployRows.length > 0) assert.match(md, /## Workload g: the deploy storm\n[^]*\| parley-redis \| 300 \/ 10 \|/);
});
