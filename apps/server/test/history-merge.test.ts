import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryEngine } from '../src/engine/memory-engine.ts';
import { Stats } from '../src/observability/stats.ts';
import { HISTORY_REUSE_MAX_BYTES, HISTORY_REUSE_MAX_READS, RoomHub, type RoomMember } from '../src/rooms/room-hub.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { CrowdMember, closeCrowd, eventually } from './helpers/crowd.ts';
import { testEngineOptions, testLogger } from './helpers/engine-options.ts';
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
 * oldest dropped first, and let go once too old to be handed out. Each test makes hubs of its
 * own, over a memory engine, with the reuse window it needs (the app's keeps HISTORY_REUSE_MS):
 * a long one where reads must stay kept, so that only the bounds drop any however slow the
 * machine, and a short one to see reads let go. The assertions are on counts of reads, not on
 * how long anything took.
 */
describe('finished history reads kept for reuse', () => {
  type Query = { limit: number; maxBytes: number };
  interface TestHub {
    hub: RoomHub;
    stats: Stats;
    room: string;
  }

  /** Longer than any test runs: no read kept with it ages out. */
  const KEEP_ALL_MS = 3_600_000;
  const engineOptions = testEngineOptions({ historyBudgetBytes: 64 << 20, roomIndexSize: 100 });
  const log = testLogger();

  /**
   * A hub of its own with this reuse window, over a memory engine, and one member in `room` to
   * whom `texts` were posted and delivered (before the reads: a delivery would end their reuse).
   */
  async function hubWith(t: TestContext, historyReuseMs: number, room: string, texts: string[]): Promise<TestHub> {
    const engine = new MemoryEngine(engineOptions);
    const stats = new Stats();
    const hub = new RoomHub(engine, log, stats, {
      typingMaxMembers: 100,
      presenceCountOnlyMembers: 1000,
      historyReuseMs,
    });
    let delivered = 0;
    const member: RoomMember = {
      userId: undefined,
      addressKey: 'test',
      deliver: (batch) => (delivered += batch.messageCount),
      busStatus: () => {},
      resync: () => {},
      removed: () => {},
      addressBanned: () => {},
    };
    await hub.join(room, member);
    t.after(async () => {
      hub.leave(room, member);
      await engine.close();
    });
    for (const text of texts) await hub.post({ room, user: { id: 'u_keeper', name: 'Keeper' }, text });
    await eventually(() => delivered === texts.length, 'the messages delivered');
    return { hub, stats, room };
  }

  /** Asks every query in turn, checking the bounds after each. */
  async function askInTurn({ hub, room }: TestHub, queries: Query[]): Promise<void> {
    for (const query of queries) {
      await hub.history(room, query);
      const kept = hub.keptHistoryReads;
      assert.ok(kept.reads <= HISTORY_REUSE_MAX_READS, `${kept.reads} reads kept`);
      assert.ok(kept.bytes <= HISTORY_REUSE_MAX_BYTES, `${kept.bytes} bytes kept`);
    }
  }

  /** How many log reads asking these queries again, all at once, costs. */
  async function readsToAsk({ hub, stats, room }: TestHub, queries: Query[]): Promise<number> {
    const start = stats.historyReads;
    await Promise.all(queries.map((query) => hub.history(room, query)));
    return stats.historyReads - start;
  }

  /** Asks `kept` again: none may cost a log read (nor move, being reused). Then `dropped`: each must cost one. */
  async function assertKeptNewest(hub: TestHub, kept: Query[], dropped: Query[]): Promise<void> {
    assert.equal(await readsToAsk(hub, kept), 0, 'the newest reads were all kept');
    assert.equal(await readsToAsk(hub, dropped), dropped.length, 'the oldest were dropped');
  }

  /** Distinct reads of the same page (each maxBytes is a key of its own). */
  function distinctReads(count: number, limit: number): Query[] {
    return Array.from({ length: count }, (_, i) => ({ limit, maxBytes: (1 << 20) + i }));
  }

  test(`at most ${HISTORY_REUSE_MAX_READS} reads are kept, the oldest dropped first`, async (t) => {
    const kept = await hubWith(t, KEEP_ALL_MS, 'kept_reads', ['the one message']);
    // 44 more than are kept.
    const queries = distinctReads(HISTORY_REUSE_MAX_READS + 44, 10);
    await askInTurn(kept, queries);
    assert.equal(kept.hub.keptHistoryReads.reads, HISTORY_REUSE_MAX_READS);
    await assertKeptNewest(kept, queries.slice(-HISTORY_REUSE_MAX_READS), queries.slice(0, 44));
  });

  test('at most HISTORY_REUSE_MAX_BYTES (estimated) are kept, the oldest dropped first', async (t) => {
    const texts = Array.from({ length: 50 }, (_, i) => `${i} `.padEnd(4000, 'x'));
    const kept = await hubWith(t, KEEP_ALL_MS, 'kept_bytes', texts);
    // Each read holds the 50 messages, estimated at about 0.6 MiB: the bytes bound keeps 53 of
    // them, far fewer than the count bound would.
    const queries = distinctReads(80, 50);
    await askInTurn(kept, queries);
    const { reads, bytes } = kept.hub.keptHistoryReads;
    const perRead = bytes / reads;
    assert.ok(perRead > 50 * 4000, `a read is estimated at ${perRead} bytes`);
    assert.equal(reads, Math.floor(HISTORY_REUSE_MAX_BYTES / perRead), 'as many as fit in the bound');
    await assertKeptNewest(kept, queries.slice(-reads), queries.slice(0, -reads));
  });

  test('a kept read is handed out within the reuse window only, and let go after it, its bytes too', async (t) => {
    const short = await hubWith(t, 50, 'let_go', ['the one message']);
    const long = await hubWith(t, KEEP_ALL_MS, 'let_go', ['the one message']);
    const query = { limit: 10, maxBytes: 1 << 20 };
    assert.equal(await readsToAsk(short, [query]), 1);
    assert.equal(await readsToAsk(long, [query]), 1);
    // Past the short window (a busy machine only sleeps longer, which changes nothing here).
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await readsToAsk(long, [query]), 0, 'handed out within the window');
    assert.equal(await readsToAsk(short, [query]), 1, 'read again after the window');
    // Kept reads past the window are let go (a sweep every window), bytes too: an idle hub keeps
    // none. The long window's stays.
    assert.equal(short.hub.keptHistoryReads.reads, 1, 'the new read is kept');
    await eventually(() => short.hub.keptHistoryReads.reads === 0, 'the kept read let go', 30_000);
    assert.deepEqual(short.hub.keptHistoryReads, { reads: 0, bytes: 0 });
    assert.equal(long.hub.keptHistoryReads.reads, 1);
  });
});
