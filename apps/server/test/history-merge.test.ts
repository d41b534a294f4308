import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { HISTORY_REUSE_MAX_BYTES, HISTORY_REUSE_MAX_READS, HISTORY_REUSE_MS } from '../src/rooms/room-hub.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { CrowdMember, closeCrowd, eventually } from './helpers/crowd.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, nextOfType, postV1, type TestClient } from './helpers/ws-client.ts';

/** Waits until the client got the message `id` live (its room here has delivered it). */
async function nextMessage(client: TestClient, id: string): Promise<void> {
  for (let i = 0; i < 20; i++) if ((await nextOfType(client, 'message')).id === id) return;
  throw new Error(`message ${id} never arrived`);
}

/**
 * Storms (issue 18): when a whole room reconnects at once with the same `since`, an instance
 * reads the log once per moment, not once per socket (RoomHub.history), and still every
 * socket gets every message exactly once, in order.
 */

/** Recoveries in the storm test, spread over the instances. */
const STORM = 150;

function readCounts(instances: RunningApp[]): { reads: number; merged: number } {
  const apps = [...new Set(instances)];
  return {
    reads: apps.reduce((n, { app }) => n + app.stats.historyReads, 0),
    merged: apps.reduce((n, { app }) => n + app.stats.historyReadsMerged, 0),
  };
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`merged history reads over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let a: RunningApp;
    let b: RunningApp;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      a = await startApp(undefined, { REDIS_URL: redis?.url });
      b = engine === 'redis' ? await startApp(undefined, { REDIS_URL: redis?.url }) : a;
    });
    after(async () => {
      await a.app.close();
      if (b !== a) await b.app.close();
      await redis?.stop();
    });

    test('identical reads asked together cost two log reads (the one running, one after it); different ones are not merged', async (t) => {
      const room = `merge_${engine}`;
      const { client } = await connectV1(a.wsUrl, room, { name: 'Writer' });
      t.after(() => client.close());
      const ids = [];
      for (let i = 0; i < 6; i++) ids.push(await postV1(client, `m${i}`));
      // (Delivered here before the reads: a delivery while they run would end their reuse.)
      await nextMessage(client, ids[5]!);
      const hub = a.app.roomHub;
      const start = readCounts([a]);
      const query = { since: ids[1], limit: 100, maxBytes: 1 << 20 };
      // Asked in the same turn: the first starts a read, the second queues one more after it
      // (the first may have read before the others asked), the other 48 share that one.
      const pages = await Promise.all(Array.from({ length: 50 }, () => hub.history(room, query)));
      const other = await hub.history(room, { ...query, since: ids[3] });
      const counts = readCounts([a]);
      assert.equal(counts.reads - start.reads, 3, 'two reads for the 50, one for the different since');
      assert.equal(counts.merged - start.merged, 48);
      for (const page of pages) {
        assert.equal(page.recovered, true);
        assert.deepEqual(
          page.messages.map((m) => m.text),
          ['m2', 'm3', 'm4', 'm5'],
        );
      }
      assert.deepEqual(
        other.messages.map((m) => m.text),
        ['m4', 'm5'],
      );
      // A finished read is handed to the next identical ask while the room has delivered
      // nothing since it started (whatever the log gains comes to the asker live)…
      const again = await hub.history(room, query);
      assert.equal(readCounts([a]).reads - counts.reads, 0, 'the finished read was reused');
      assert.deepEqual(
        again.messages.map((m) => m.text),
        ['m2', 'm3', 'm4', 'm5'],
      );
      // …and no longer once the room delivered a new message: the next ask reads again and has it.
      const newer = await postV1(client, 'm6');
      await nextMessage(client, newer);
      const fresh = await hub.history(room, query);
      assert.equal(readCounts([a]).reads - counts.reads, 1, 'read again after a delivery');
      assert.deepEqual(
        fresh.messages.map((m) => m.text),
        ['m2', 'm3', 'm4', 'm5', 'm6'],
      );
    });

    test(`${STORM} sockets recovering from the same id at once, while messages flow: each gets every message once, in order`, async (t) => {
      const room = `storm_${engine}`;
      const { client: sender } = await connectV1(a.wsUrl, room, { name: 'Sender' });
      t.after(() => sender.close());
      const sent: string[] = [];
      for (let i = 0; i < 20; i++) {
        await postV1(sender, `before ${i}`);
        sent.push(`before ${i}`);
      }
      const { welcome } = await connectV1(b.wsUrl, room, { name: 'Probe' });
      const since = welcome.history.find((m: any) => m.text === 'before 4').id;
      const expected = sent.slice(5);

      const start = readCounts([a, b]);
      const joining = Promise.all(
        Array.from({ length: STORM }, (_, i) => CrowdMember.join([a, b][i % 2]!.wsUrl, room, `r-${i}`, 30_000, since)),
      );
      // Live messages while the crowd sets up: each must reach each socket once, from its
      // welcome or live, whichever side of its set-up it fell on.
      for (let i = 0; i < 10; i++) {
        await postV1(sender, `during ${i}`);
        expected.push(`during ${i}`);
      }
      const crowd = await joining;
      t.after(() => closeCrowd(crowd));
      const textsOf = (member: CrowdMember) => [
        ...member.welcome.history.map((m: any) => m.text),
        ...member.ofType('message').map((m: any) => m.text),
      ];
      await eventually(
        () => crowd.every((member) => textsOf(member).length >= expected.length),
        'every socket has every message',
        20_000,
      );
      for (const member of crowd) {
        assert.equal(member.welcome.recovered, true);
        assert.deepEqual(textsOf(member), expected);
      }
      const counts = readCounts([a, b]);
      const reads = counts.reads - start.reads;
      const merged = counts.merged - start.merged;
      assert.equal(reads + merged, STORM, 'one history ask per welcome');
      console.log(`${engine}: ${STORM} recoveries cost ${reads} log reads (${merged} merged)`);
    });
  });
}

/**
 * The finished reads RoomHub keeps for reuse are bounded in number and in estimated bytes, the
 * oldest dropped first, and let go once too old to be handed out. (Memory engine: the bounds are
 * the hub's, and its fast reads keep every kept one fresh, well within HISTORY_REUSE_MS.)
 */
describe('finished history reads kept for reuse', () => {
  type Query = { limit: number; maxBytes: number };

  /** Asks every query in turn, checking the bounds after each; returns how long it took. */
  async function askInTurn({ app }: RunningApp, room: string, queries: Query[]): Promise<number> {
    const started = performance.now();
    for (const query of queries) {
      await app.roomHub.history(room, query);
      const kept = app.roomHub.keptHistoryReads;
      assert.ok(kept.reads <= HISTORY_REUSE_MAX_READS, `${kept.reads} reads kept`);
      assert.ok(kept.bytes <= HISTORY_REUSE_MAX_BYTES, `${kept.bytes} bytes kept`);
    }
    return performance.now() - started;
  }

  /** Asks `kept` again, all at once: none may cost a log read. Then `dropped`: each must cost one. */
  async function assertKeptNewest({ app }: RunningApp, room: string, kept: Query[], dropped: Query[]): Promise<void> {
    const start = app.stats.historyReads;
    await Promise.all(kept.map((query) => app.roomHub.history(room, query)));
    assert.equal(app.stats.historyReads - start, 0, 'the newest reads were all kept');
    await Promise.all(dropped.map((query) => app.roomHub.history(room, query)));
    assert.equal(app.stats.historyReads - start, dropped.length, 'the oldest were dropped');
  }

  test(`at most ${HISTORY_REUSE_MAX_READS} reads are kept, the oldest dropped first`, async (t) => {
    const running = await startApp(t);
    const room = 'kept_reads';
    const { client } = await connectV1(running.wsUrl, room, { name: 'Keeper' });
    t.after(() => client.close());
    // (Delivered before the reads: a delivery would end their reuse.)
    await nextMessage(client, await postV1(client, 'the one message'));
    // Distinct reads of the same page (each maxBytes is a key of its own), 44 more than are kept.
    const queries = Array.from({ length: HISTORY_REUSE_MAX_READS + 44 }, (_, i) => ({
      limit: 10,
      maxBytes: (1 << 20) + i,
    }));
    const took = await askInTurn(running, room, queries);
    assert.equal(running.app.roomHub.keptHistoryReads.reads, HISTORY_REUSE_MAX_READS);
    assert.ok(took < HISTORY_REUSE_MS / 2, `the reads took ${took} ms: too slow to tell a drop from an expiry`);
    await assertKeptNewest(running, room, queries.slice(-HISTORY_REUSE_MAX_READS), queries.slice(0, 44));
  });

  test('at most HISTORY_REUSE_MAX_BYTES (estimated) are kept, the oldest dropped first; all let go once too old', async (t) => {
    const running = await startApp(t);
    const hub = running.app.roomHub;
    const room = 'kept_bytes';
    const { client } = await connectV1(running.wsUrl, room, { name: 'Keeper' });
    t.after(() => client.close());
    let last = '';
    for (let i = 0; i < 50; i++) last = await postV1(client, `${i} `.padEnd(4000, 'x'));
    await nextMessage(client, last);
    // Each read holds the 50 messages, estimated at about 0.6 MiB: the bytes bound keeps 53 of
    // them, far fewer than the count bound would.
    const queries = Array.from({ length: 80 }, (_, i) => ({ limit: 50, maxBytes: (1 << 20) + i }));
    const took = await askInTurn(running, room, queries);
    const { reads, bytes } = hub.keptHistoryReads;
    const perRead = bytes / reads;
    assert.ok(perRead > 50 * 4000, `a read is estimated at ${perRead} bytes`);
    assert.equal(reads, Math.floor(HISTORY_REUSE_MAX_BYTES / perRead), 'as many as fit in the bound');
    assert.ok(took < HISTORY_REUSE_MS / 2, `the reads took ${took} ms: too slow to tell a drop from an expiry`);
    await assertKeptNewest(running, room, queries.slice(-reads), queries.slice(0, -reads));
    // Once too old to be handed out, they are let go (the sweep runs every HISTORY_REUSE_MS),
    // and their bytes with them.
    await eventually(() => hub.keptHistoryReads.reads === 0, 'the kept reads let go', 4 * HISTORY_REUSE_MS);
    assert.deepEqual(hub.keptHistoryReads, { reads: 0, bytes: 0 });
  });
});
