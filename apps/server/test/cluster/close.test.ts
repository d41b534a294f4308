import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TestRedisCluster } from '../helpers/redis-cluster.ts';

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * An instance that closes while its cluster is gone (a deploy during a Redis outage) must leave
 * nothing running that keeps its process alive. ioredis' own slot-map timer could: a refresh
 * still in flight when the client closed scheduled the next round, for ever (the failover
 * test's process once never exited). The race depends on when the close lands among the
 * client's reconnect attempts, so several instances close at different moments.
 */
test(
  'apps closed while their cluster is down leave nothing that keeps their process alive',
  { timeout: 120_000 },
  async (t) => {
    const cluster = await TestRedisCluster.start();
    t.after(() => cluster.stop());
    const closeAfterMs = [0, 150, 500, 1000, 1500, 2000];
    const apps = await Promise.all(
      closeAfterMs.map(async () => {
        const child = spawn(process.execPath, ['--import', 'tsx', 'test/cluster/fixtures/close-app.ts'], {
          cwd: serverDir,
          env: { ...process.env, REDIS_CLUSTER_NODES: cluster.seeds },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        t.after(() => child.kill('SIGKILL'));
        const exited = once(child, 'exit');
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        assert.equal((await lines.next()).value, 'ready');
        return { child, exited, lines };
      }),
    );

    for (const node of cluster.nodes) await cluster.kill(node.port);
    await Promise.all(
      apps.map(async ({ child, lines }, i) => {
        await new Promise((resolve) => setTimeout(resolve, closeAfterMs[i]));
        child.stdin!.end('close\n');
        assert.equal((await lines.next()).value, 'closed');
      }),
    );

    // Long enough for every slot-map read in flight to end (and, with the old timer, to schedule
    // the next one); a process with nothing left to do exits well before.
    let timer: NodeJS.Timeout | undefined;
    const stillRunning = new Promise<string>((resolve) => (timer = setTimeout(resolve, 20_000, 'still running')));
    const outcomes = await Promise.all(
      apps.map(({ exited }) => Promise.race([exited.then(([code]) => `exited with ${String(code)}`), stillRunning])),
    );
    clearTimeout(timer);
    assert.deepEqual(
      outcomes,
      apps.map(() => 'exited with 0'),
      `closed ${closeAfterMs.join(', ')} ms after the cluster went down: each process exits by itself`,
    );
  },
);
