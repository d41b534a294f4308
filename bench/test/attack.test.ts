// Smoke test of the attack harness (`pnpm attack`): one very short attack end to end (the
// invalid-frame flood for 1 s on the memory engine, built server, default limits), with the
// neighbour and attacker processes, then the report rendered from it. Checks that every figure
// is there and the server survived; never how fast anything was. About 10 seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopAll } from '../src/proc.ts';
import type { Context } from '../src/systems.ts';
import { renderMarkdown } from '../src/attack/report.ts';
import { runOne } from '../src/attack/run.ts';
import type { AttackResults, AttackSettings } from '../src/attack/types.ts';

const benchRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(benchRoot, '..');
const script = join(repoRoot, 'apps/server/dist/server.js');
const ctx: Context = { repoRoot, benchRoot, serverCpus: '', auxCpus: '', echo: false };

const settings: AttackSettings = {
  warmupMs: 300,
  quietMs: 1000,
  attackMs: 1000,
  afterMs: 500,
  drainMs: 1500,
  rate: 20,
  senders: 4,
  seedMessages: 0,
  seedTextBytes: 4096,
  goalFactor: 3,
  noisyOtherPct: 50,
  noisyRetries: 0,
  logLevel: 'warn',
  server: 'the working tree’s build',
};

function buildServerIfMissing(): void {
  if (existsSync(script)) return;
  const tsc = createRequire(join(repoRoot, 'package.json')).resolve('typescript/bin/tsc');
  for (const pkg of ['packages/protocol', 'apps/server']) {
    const built = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, pkg, 'tsconfig.build.json')], {
      stdio: 'inherit',
    });
    assert.equal(built.status, 0, `building ${pkg} failed`);
  }
}

test('one short attack runs end to end and reports every figure', { timeout: 30_000 }, async (t) => {
  t.after(stopAll);
  buildServerIfMissing();
  const logDir = join(benchRoot, '.work/attack-logs/test');
  mkdirSync(logDir, { recursive: true });
  const run = await runOne(ctx, 'parley-memory', 'invalid-frames', settings, { script, logDir });

  assert.equal(run.error, undefined, run.error);
  for (const w of [run.quiet, run.underAttack, run.after]) {
    assert.ok(w !== undefined, 'a neighbour window is missing');
    assert.ok(w.sent > 0, `the neighbour sent nothing in its ${w.phase} window`);
    assert.equal(w.ack.count, w.sent);
    assert.ok(w.acked <= w.sent && w.unacked === w.sent - w.acked);
  }
  assert.ok(run.quiet!.acked > 0 && typeof run.quiet!.ack.p50 === 'number', 'quiet acks measured');
  const a = run.attacker!;
  assert.equal(a.attack, 'invalid-frames');
  assert.ok(a.attempts >= 1 && a.opened >= 1, 'the attacker connected');
  assert.ok(a.framesSent > 0 && a.bytesSent > 0, 'the attacker sent frames');
  assert.ok(a.elapsedMs > 0);
  const s = run.server!;
  assert.ok(s.survived, `the server did not survive: ${s.exit ?? ''}`);
  assert.ok(s.rssBeforeKb > 0 && s.rssPeakKb >= s.rssBeforeKb);
  assert.ok(Number.isFinite(s.cpuPctAttack));
  assert.ok(run.p99Ratio === null || run.p99Ratio > 0);
  assert.equal(typeof run.goalMet, 'boolean');

  const results: AttackResults = {
    kind: 'attack',
    version: 1,
    date: '2000-01-01',
    startedAt: run.startedAt,
    finishedAt: run.startedAt,
    durationS: run.durationS,
    machine: {
      nproc: 2,
      cpuModel: 'test',
      memTotalGiB: 1,
      kernel: 'test',
      os: 'test',
      node: process.version,
      redis: '-',
      python: undefined,
      packages: {},
      git: 'test',
      pinning: 'none',
    },
    commands: ['node --test'],
    settings,
    runs: [run],
    notes: [],
  };
  const md = renderMarkdown(results);
  assert.match(md, /\| invalid-frames \| parley-memory \|/);
  assert.match(md, /within 3× of the quiet p99/);
});
