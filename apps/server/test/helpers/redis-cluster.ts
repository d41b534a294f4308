import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, waitForPing } from './redis-server.ts';
import { roomKeys } from '../../src/engine/redis-keys.ts';

const run = promisify(execFile);

/** One node of a test cluster. */
export interface ClusterNode {
  port: number;
  process: ChildProcess | undefined;
}

/**
 * A real Redis Cluster owned by a test: six `redis-server` processes with `cluster-enabled yes`
 * on free loopback ports, joined by `redis-cli --cluster create … --cluster-replicas 1` (three
 * primaries, three replicas). Nodes can be killed (a crash) to make a replica take over.
 */
export class TestRedisCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'parley-cluster-'));

  private constructor(readonly nodes: ClusterNode[]) {}

  static async start(size = 6): Promise<TestRedisCluster> {
    const cluster = new TestRedisCluster(Array.from({ length: size }, () => ({ port: 0, process: undefined })));
    try {
      await Promise.all(cluster.nodes.map((node) => cluster.startNode(node)));
      const ports = cluster.nodes.map((node) => node.port);
      await run(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...ports.map((port) => `127.0.0.1:${port}`),
          '--cluster-replicas',
          '1',
          '--cluster-yes',
        ],
        { timeout: 30_000 },
      );
      await cluster.waitUntilHealthy(30_000, true);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** `host:port` of every node, as REDIS_CLUSTER_NODES takes them. */
  get seeds(): string {
    return this.nodes.map((node) => `127.0.0.1:${node.port}`).join(',');
  }

  /** A client of the cluster, for tests that look at keys or the topology. */
  client(): Redis {
    return new Redis(this.nodes.find((node) => node.process !== undefined)!.port, '127.0.0.1');
  }

  /** The slot of a room's keys (one for all of them: the room's name is their hash tag). */
  async roomSlot(room: string): Promise<number> {
    const client = this.client();
    try {
      return Number(await client.call('CLUSTER', 'KEYSLOT', roomKeys(room).log));
    } finally {
      client.disconnect();
    }
  }

  /** The port of the primary that serves a slot now. */
  async primaryOf(slot: number): Promise<number> {
    const client = this.client();
    try {
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      const range = ranges.find(([from, to]) => slot >= from && slot <= to);
      if (range === undefined) throw new Error(`no node serves slot ${slot}`);
      return Number(range[2][1]);
    } finally {
      client.disconnect();
    }
  }

  /** The port of a primary's replica (the first, when it has several), as the primary reports it. */
  async replicaOf(primaryPort: number): Promise<number> {
    const client = new Redis(primaryPort, '127.0.0.1');
    try {
      const replication = String(await client.call('INFO', 'replication'));
      const port = /^slave0:.*port=(\d+)/m.exec(replication)?.[1];
      if (port === undefined) throw new Error(`no replica of ${primaryPort}`);
      return Number(port);
    } finally {
      client.disconnect();
    }
  }

  /** Freezes a node (SIGSTOP): it keeps its connections and answers nothing, like a hung host. */
  pause(port: number): void {
    this.nodes.find((n) => n.port === port)?.process?.kill('SIGSTOP');
  }

  /** Lets a paused node go on (SIGCONT). */
  resume(port: number): void {
    this.nodes.find((n) => n.port === port)?.process?.kill('SIGCONT');
  }

  /** The ports of the three primaries. */
  async primaries(): Promise<number[]> {
    const client = this.client();
    try {
      const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
      return [...new Set(ranges.map((range) => Number(range[2][1])))].sort();
    } finally {
      client.disconnect();
    }
  }

  /**
   * Moves one slot, keys and all, from the primary serving it to another, the way
   * `redis-cli --cluster reshard` does: IMPORTING and MIGRATING, MIGRATE in batches (clients
   * meanwhile get ASK or TRYAGAIN), then the new owner announced to every primary.
   */
  async moveSlot(slot: number, toPort: number): Promise<void> {
    const fromPort = await this.primaryOf(slot);
    if (fromPort === toPort) return;
    const from = new Redis(fromPort, '127.0.0.1');
    const to = new Redis(toPort, '127.0.0.1');
    try {
      const fromId = String(await from.call('CLUSTER', 'MYID'));
      const toId = String(await to.call('CLUSTER', 'MYID'));
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId);
      for (;;) {
        const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 10)) as string[];
        if (keys.length === 0) break;
        await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 5000, 'REPLACE', 'KEYS', ...keys);
        // A slot with live traffic moves a few keys at a time, as resharding tools do.
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await to.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      await from.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId);
      for (const port of await this.primaries()) {
        if (port === fromPort || port === toPort) continue;
        const other = new Redis(port, '127.0.0.1');
        await other.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId).finally(() => other.disconnect());
      }
    } finally {
      from.disconnect();
      to.disconnect();
    }
  }

  /** Kills a node at once (SIGKILL), as a crash would. */
  async kill(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    const child = node?.process;
    if (node === undefined || child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    node.process = undefined;
  }

  /**
   * Starts a killed node again: it rejoins the cluster (as the replica of whoever took over). A
   * killed primary must be started again only once its replica has taken over (see
   * {@link waitForTakeover}): the nodes keep nothing on disk, and a primary back before the
   * cluster marked it failed keeps its slots, empty; no failover happens then, and its replica
   * syncs from it and drops everything it had.
   */
  async restart(port: number): Promise<void> {
    const node = this.nodes.find((n) => n.port === port);
    if (node === undefined || node.process !== undefined) return;
    this.spawnNode(node);
    await waitForPing(port);
  }

  /** Waits until another node serves the slots of a killed primary (its replica won the election). */
  async waitForTakeover(port: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const primaries = await this.primaries().catch(() => [port]);
      if (!primaries.includes(port)) return;
      if (Date.now() > deadline) throw new Error(`no replica took over the slots of ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Waits until every live node says the cluster is ok and all slots are served, and with
   * `replicated`, until every primary's replica is in sync and acknowledges writes (WAIT counts
   * only those).
   */
  async waitUntilHealthy(timeoutMs = 30_000, replicated = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let healthy = true;
      for (const node of this.nodes.filter((n) => n.process !== undefined)) {
        const client = new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
        client.on('error', () => {});
        try {
          await client.connect();
          const info = String(await client.call('CLUSTER', 'INFO'));
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) healthy = false;
          const replication = String(await client.call('INFO', 'replication'));
          if (replicated && replication.includes('role:master')) {
            if (!/slave0:.*state=online/.test(replication) || !(await replicaAcknowledges(client, node.port)))
              healthy = false;
          }
        } catch {
          healthy = false;
        } finally {
          client.disconnect();
        }
      }
      if (healthy) return;
      if (Date.now() > deadline) throw new Error('the test cluster did not become healthy');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    for (const node of this.nodes) await this.kill(node.port);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Starts a node on a free port whose cluster bus port is free too, and waits until it answers;
   * a node that exits first (its ports were taken meanwhile by another test's socket) is started
   * again on other ports, twice at most.
   */
  private async startNode(node: ClusterNode): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      node.port = await freeNodePort();
      this.spawnNode(node);
      const child = node.process!;
      const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
      const answered = waitForPing(node.port).then(() => 'answered' as const);
      const outcome = await Promise.race([answered, exited]);
      if (outcome === 'answered') return;
      answered.catch(() => {}); // (it gives up on its own)
      if (attempt === 3) throw new Error(`a cluster node exited at start three times (last port ${node.port})`);
    }
  }

  private spawnNode(node: ClusterNode): void {
    node.process = spawn(
      'redis-server',
      [
        '--port',
        String(node.port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(this.dir, `nodes-${node.port}.conf`),
        // A primary that stops answering is replaced by its replica within about a second.
        '--cluster-node-timeout',
        '1000',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.dir,
      ],
      { stdio: ['ignore', 'ignore', 'ignore'] },
    );
  }
}

/** Room names whose slot is served by each primary: one room per primary. */
export async function roomsOnEveryPrimary(cluster: TestRedisCluster, prefix: string): Promise<Map<number, string>> {
  const primaries = await cluster.primaries();
  const client = cluster.client();
  const rooms = new Map<number, string>();
  try {
    for (let i = 0; rooms.size < primaries.length && i < 200; i++) {
      const room = `${prefix}${i}`;
      const slot = Number(await client.call('CLUSTER', 'KEYSLOT', roomKeys(room).log));
      const primary = await cluster.primaryOf(slot);
      if (!rooms.has(primary)) rooms.set(primary, room);
    }
  } finally {
    client.disconnect();
  }
  assert.equal(rooms.size, 3, 'a room on each of the three primaries');
  return rooms;
}

/**
 * Whether the replica of the primary on `port` acknowledges a write there within a second
 * (WAIT). A replica that has just loaded its first sync is listed online before it acknowledges
 * anything, and the primary streams it nothing until it does (up to a second later): a primary
 * killed meanwhile took with it what it was sent after the sync (a room's presence, say, which
 * is not waited for).
 */
async function replicaAcknowledges(client: Redis, port: number): Promise<boolean> {
  const ranges = (await client.call('CLUSTER', 'SLOTS')) as Array<[number, number, [string, number]]>;
  const own = ranges.filter((range) => Number(range[2][1]) === port);
  if (own.length === 0) return true; // no slots, nothing to replicate
  for (let i = 0; i < 1000; i++) {
    const key = `replication-check-${i}`;
    const slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
    if (!own.some(([from, to]) => slot >= from && slot <= to)) continue;
    await client.set(key, '1', 'PX', 1000);
    return Number(await client.call('WAIT', 1, 1000)) >= 1;
  }
  return false;
}

/** Whether a loopback port can be listened on now. */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port whose cluster bus port (the port + 10000, which redis-server binds too) is
 * free as well: with only the first checked, a node whose bus port another test's socket held
 * exited at once, and the cluster waited for it in vain (a CI run failed so).
 */
async function freeNodePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await freePort();
    if (port + 10_000 <= 65_535 && (await isFree(port + 10_000))) return port;
  }
  throw new Error('no free port whose cluster bus port is free too');
}
