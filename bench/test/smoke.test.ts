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
import type { Context } from '../src/systems.ts';

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
