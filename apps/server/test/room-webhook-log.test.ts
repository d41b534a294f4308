import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareMessageIds } from '@parley/protocol';
import { LATEST_PAGE_WEBHOOK_CHANGES } from '../src/engine/engine.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances, startTwoInstancesOnCluster } from './helpers/two-instances.ts';
import { connectV1, nextOfType, postV1, requestUntilAcked, requestV1, type TestClient } from './helpers/ws-client.ts';

/**
 * A change of a room's webhook is an entry of the room's log, like a settings change: delivered
 * live with its `eventId`, in the welcome of a newcomer (the latest page's stretch) and of a
 * client recovering with `since`, and in `after` pages, in the log's order; never with the URL
 * or secret. On both engines, across two instances on Redis, and on a Redis Cluster with
 * REDIS_WAIT_REPLICAS (the script leaves the frame to the server, published once replicated).
 */

const ALLOW = { ROOM_WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_BASE_MS: '20' };
const SECRET_PATH = '/known-only-to-the-owner';

let requests = 0;

/** Sends the owner's `webhook` frame and returns its answer (the `webhook` frame with the clientMsgId, or an `error`). */
async function webhook(client: TestClient, frame: Record<string, unknown>): Promise<any> {
  const clientMsgId = `wl${requests++}`;
  client.send({ type: 'webhook', ...frame, clientMsgId });
  for (;;) {
    const reply = await client.next(5000);
    if ((reply.type === 'webhook' || reply.type === 'error') && reply.clientMsgId === clientMsgId) return reply;
  }
}

/** The log entries of a welcome or an `after` page that are about the room, as `[type, eventId]`, in log order. */
function roomEntries(batch: any): Array<[string, string]> {
  const entries: Array<[string, string]> = [
    ...(batch.settingsChanges ?? []).map((s: any) => ['settings', s.eventId]),
    ...(batch.webhookChanges ?? []).map((w: any) => ['webhook', w.eventId]),
  ];
  return entries.sort((a, b) => compareMessageIds(a[1], b[1]));
}

/** Sets up, changes and removes a room's webhook, with a topic change and messages between; returns what everyone saw live. */
async function threeChanges(olga: TestClient, bob: TestClient, receiverUrl: string) {
  const set = await webhook(olga, { url: `${receiverUrl}${SECRET_PATH}?token=s3cret`, events: ['message'] });
  assert.equal(set.type, 'webhook', JSON.stringify(set));
  assert.match(set.webhook.secret, /^whsec_/);
  assert.equal(set.eventId, undefined, 'the owner’s answer is no log entry');
  const setUp = await nextOfType(bob, 'webhook');
  assert.equal((await requestV1(olga, { type: 'settings', topic: 'Hooks' })).type, 'ack');
  const topic = await nextOfType(bob, 'settings');
  await postV1(olga, 'between the changes');
  assert.equal((await webhook(olga, { events: ['message', 'join'] })).type, 'webhook');
  const changed = await nextOfType(bob, 'webhook');
  assert.equal((await webhook(olga, { url: null })).webhook, null);
  const removed = await nextOfType(bob, 'webhook');
  return { setUp, topic, changed, removed };
}

function assertNoUrlOrSecret(text: string, receiverPort: number): void {
  assert.ok(!text.includes(SECRET_PATH), `no URL in ${text.slice(0, 300)}`);
  assert.ok(!text.includes(String(receiverPort)), `no port in ${text.slice(0, 300)}`);
  assert.ok(!text.includes('whsec_') && !text.includes('s3cret'), `no secret in ${text.slice(0, 300)}`);
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`webhook changes in the room's log (${engine} engine)`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    let receiver: TestReceiver;
    before(async () => {
      receiver = await TestReceiver.start();
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { ...ALLOW, REDIS_URL: redis?.url });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
      await receiver.close();
    });

    test('each change is delivered live with its eventId, in the log’s order, without the URL or secret', async () => {
      const room = `rwlog_live_${engine}`;
      const { client: olga, welcome } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'mine');
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const olgas: any[] = [];
      olga.socket.on('message', (data) => olgas.push(JSON.parse(data.toString())));
      const { setUp, topic, changed, removed } = await threeChanges(olga, bob, receiver.url);
      const olgaId = welcome.you.id;
      assert.deepEqual(setUp, {
        type: 'webhook',
        webhook: { events: ['message'] },
        by: { id: olgaId, name: 'Olga' },
        eventId: setUp.eventId,
        action: 'set',
      });
      assert.deepEqual(changed.webhook, { events: ['message', 'join'] });
      assert.equal(changed.action, 'events', 'what the owner did, for clients that do not hold the state before');
      assert.deepEqual(removed, {
        type: 'webhook',
        webhook: null,
        by: { id: olgaId, name: 'Olga' },
        eventId: removed.eventId,
        action: 'removed',
      });
      const ids = [setUp.eventId, topic.eventId, changed.eventId, removed.eventId];
      assert.deepEqual([...ids].sort(compareMessageIds), ids, 'in the log’s order, with the settings change');
      for (const frame of [setUp, changed, removed]) assertNoUrlOrSecret(JSON.stringify(frame), receiver.port);
      // The owner gets the entries too, once each, besides the answers (which are no entries).
      await postV1(olga, 'marker');
      assert.deepEqual(
        olgas.filter((frame) => frame.type === 'webhook' && frame.clientMsgId === undefined),
        [setUp, changed, removed],
      );
      olga.close();
      bob.close();
    });

    test('a newcomer’s welcome, a recovering client’s and the after pages carry the changes, in order', async () => {
      const room = `rwlog_recover_${engine}`;
      const { client: olga, welcome } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'mine');
      const { client: bob, welcome: bobs } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const since = bobs.lastEventId;
      assert.ok(since !== undefined);
      const { client: watcher } = await connectV1(app.wsUrl, room, { name: 'Watcher' });
      bob.close();
      const { setUp, topic, changed, removed } = await threeChanges(olga, watcher, receiver.url);
      const expected: Array<[string, string]> = [
        ['webhook', setUp.eventId],
        ['settings', topic.eventId],
        ['webhook', changed.eventId],
        ['webhook', removed.eventId],
      ];

      // Bob, away since before the first change, recovers all of them.
      const { client: back, welcome: recovered } = await connectV1(app.wsUrl, room, {
        name: 'Bob',
        token: bobs.token,
        since,
      });
      assert.equal(recovered.recovered, true);
      assert.deepEqual(roomEntries(recovered), expected);
      assert.deepEqual(recovered.webhookChanges, [setUp, changed, removed]);
      assert.equal(recovered.lastEventId, removed.eventId, 'the newest entry it covers');
      assert.equal(recovered.webhook, undefined, 'none now');

      // A newcomer (no since): the latest page's stretch holds them all (the first message is in it).
      const { client: dana, welcome: danas } = await connectV1(app.wsUrl, room, { name: 'Dana' });
      assert.deepEqual(danas.webhookChanges, [setUp, changed, removed]);
      assert.equal(danas.lastEventId, removed.eventId);
      // Who asks from the start gets them with the settings change, in the log's order.
      const { client: eve, welcome: eves } = await connectV1(app.wsUrl, room, { name: 'Eve', since: '0-0' });
      assert.deepEqual(roomEntries(eves), expected);

      // History pages after an id: the same entries, in order; one page at a time too.
      const page: any = await (await fetch(`${app.httpUrl}/api/rooms/${room}/messages?after=${since}`)).json();
      assert.deepEqual(roomEntries(page), expected);
      assert.deepEqual(page.webhookChanges, [setUp, changed, removed]);
      const pageText = await (await fetch(`${app.httpUrl}/api/rooms/${room}/messages?after=0-0&limit=1`)).text();
      let after = since;
      const paged: Array<[string, string]> = [];
      for (let i = 0; i < 10; i++) {
        const small: any = await (
          await fetch(`${app.httpUrl}/api/rooms/${room}/messages?after=${after}&limit=1`)
        ).json();
        paged.push(...roomEntries(small));
        if (!small.hasNewer) break;
        after = small.lastEventId;
      }
      assert.deepEqual(paged, expected, 'pages split the log without losing or repeating an entry');
      // A scroll-back page carries none (it is about older messages).
      const older: any = await (
        await fetch(`${app.httpUrl}/api/rooms/${room}/messages?before=${removed.eventId}`)
      ).json();
      assert.equal(older.webhookChanges, undefined);

      for (const text of [
        JSON.stringify(recovered),
        JSON.stringify(danas),
        JSON.stringify(eves),
        JSON.stringify(page),
        pageText,
      ])
        assertNoUrlOrSecret(text, receiver.port);
      assert.equal(welcome.webhookChanges, undefined, 'no changes before the first');
      for (const client of [olga, watcher, back, dana, eve]) client.close();
    });

    test('a newcomer’s welcome lists the newest LATEST_PAGE_WEBHOOK_CHANGES changes, however many the owner made', async () => {
      const room = `rwlog_many_${engine}`;
      const { client: olga } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'mine');
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      assert.equal((await webhook(olga, { url: receiver.url, events: ['message'] })).type, 'webhook');
      const ids = [(await nextOfType(bob, 'webhook')).eventId];
      const total = LATEST_PAGE_WEBHOOK_CHANGES + 5;
      for (let i = 1; i < total; i++) {
        const events = i % 2 === 0 ? ['message'] : ['message', 'join'];
        assert.equal((await webhook(olga, { events })).type, 'webhook');
        ids.push((await nextOfType(bob, 'webhook')).eventId);
      }
      const { client: dana, welcome } = await connectV1(app.wsUrl, room, { name: 'Dana' });
      assert.deepEqual(
        welcome.webhookChanges.map((change: any) => change.eventId),
        ids.slice(-LATEST_PAGE_WEBHOOK_CHANGES),
        'the newest ones, oldest first',
      );
      assert.equal(welcome.webhookChanges[0].action, 'events', 'the first listed says what was done');
      for (const c of [olga, bob, dana]) c.close();
    });

    test('setting the same webhook again or removing none logs nothing', async () => {
      const room = `rwlog_none_${engine}`;
      const { client: olga } = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(olga, 'mine');
      assert.equal((await webhook(olga, { url: null })).webhook, null, 'none to remove');
      assert.equal((await webhook(olga, { events: ['join'] })).code, 'not_found');
      const { welcome } = await connectV1(app.wsUrl, room, { name: 'Ann', since: '0-0' });
      assert.equal(welcome.webhookChanges, undefined);
      olga.close();
    });

    if (engine === 'redis')
      test('the entry is in the room’s stream beside the webhook, and expires with the room', async () => {
        const room = `rwlog_stream_${engine}`;
        const { client: olga } = await connectV1(app.wsUrl, room, { name: 'Olga' });
        await postV1(olga, 'mine');
        // The notice is read from another socket: on the owner's, it may come before the answer,
        // which webhook() waits for past everything else.
        const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
        await webhook(olga, { url: `${receiver.url}${SECRET_PATH}`, events: ['message'] });
        const notice = await nextOfType(bob, 'webhook');
        const direct = new Redis(redis!.url);
        try {
          const entries = await direct.xrange(`parley:{${room}}:log`, notice.eventId, notice.eventId);
          assert.equal(entries.length, 1, 'appended to the log');
          const fields = entries[0]![1];
          const record = JSON.parse(fields[fields.indexOf('r') + 1]!);
          assert.deepEqual(record, {
            v: 2,
            kind: 'webhook',
            room,
            user: notice.by,
            events: ['message'],
            action: 'set',
          });
          assertNoUrlOrSecret(JSON.stringify(fields), receiver.port);
          // The log and the hash holding the webhook expire together (ROOM_TTL_SECONDS).
          const [logTtl, hashTtl] = await Promise.all([
            direct.pttl(`parley:{${room}}:log`),
            direct.pttl(`parley:{${room}}:moderation`),
          ]);
          assert.ok(logTtl > 0 && hashTtl > 0 && Math.abs(logTtl - hashTtl) < 5_000, `${logTtl} ${hashTtl}`);
        } finally {
          direct.disconnect();
        }
        olga.close();
        bob.close();
      });
  });
}

describe('webhook changes across two instances (redis engine)', () => {
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  let receiver: TestReceiver;
  before(async () => {
    receiver = await TestReceiver.start();
    ({ a, b, stop } = await startTwoInstances(undefined, ALLOW));
  });
  after(async () => {
    await stop();
    await receiver.close();
  });

  test('set through A, every socket of B gets each change once, in order; a client of B recovers them', async () => {
    const room = 'rwlog_across';
    const { client: olga } = await connectV1(a.wsUrl, room, { name: 'Olga' });
    await postV1(olga, 'mine');
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    const { client: carl, welcome: carls } = await connectV1(b.wsUrl, room, { name: 'Carl' });
    carl.close();
    const { setUp, topic, changed, removed } = await threeChanges(olga, bob, receiver.url);
    const ids = [setUp.eventId, topic.eventId, changed.eventId, removed.eventId];
    assert.deepEqual([...ids].sort(compareMessageIds), ids);
    const marker = await postV1(olga, 'marker');
    for (let frame = await bob.next(); frame.id !== marker; frame = await bob.next())
      assert.notEqual(frame.type, 'webhook', `once each: ${JSON.stringify(frame)}`);
    const { client: back, welcome } = await connectV1(b.wsUrl, room, {
      name: 'Carl',
      token: carls.token,
      since: carls.lastEventId,
    });
    assert.deepEqual(welcome.webhookChanges, [setUp, changed, removed]);
    for (const client of [olga, bob, back]) client.close();
  });
});

describe('webhook changes read back after a pub/sub gap (redis engine)', () => {
  test('an instance that lost them on the bus reads them back from the log, in order with a settings change', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const { redis, a, b } = await startTwoInstances(t, ALLOW);
    const admin = new Redis(redis.url);
    t.after(() => admin.disconnect());
    const room = 'rwlog_gap';
    const { client: olga } = await connectV1(a.wsUrl, room, { name: 'Olga' });
    await postV1(olga, 'mine');
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    t.after(() => {
      olga.close();
      bob.close();
    });
    // (B's hub reads back after the newest entry it delivered: one, first.)
    const seen = await postV1(olga, 'seen on B');
    while ((await bob.next(5000)).id !== seen);
    const frames: any[] = [];
    bob.socket.on('message', (data) => frames.push(JSON.parse(data.toString())));
    // Both instances' subscribers drop; the changes made meanwhile reach B only through its read-back.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    assert.equal((await webhook(olga, { url: receiver.url, events: ['message'] })).type, 'webhook');
    assert.equal((await requestV1(olga, { type: 'settings', topic: 'Hooks' })).type, 'ack');
    assert.equal((await webhook(olga, { events: ['message', 'join'] })).type, 'webhook');
    const marker = await postV1(olga, 'marker');
    for (let waited = 0; !frames.some((frame) => frame.id === marker); waited += 20) {
      assert.ok(waited < 10_000, `the marker reached B: ${JSON.stringify(frames)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const entries = frames.filter((frame) => frame.type === 'webhook' || frame.type === 'settings');
    assert.deepEqual(
      entries.map((frame) => frame.type),
      ['webhook', 'settings', 'webhook'],
      'once each, in the log’s order',
    );
    const ids = entries.map((frame) => frame.eventId);
    assert.deepEqual([...ids].sort(compareMessageIds), ids);
    assert.ok(b.app.stats.backfilledMessages > 0, 'B read them back from the log');
  });
});

test(
  'on a cluster with REDIS_WAIT_REPLICAS=1, a change through A reaches B’s clients once, and its recovery',
  { timeout: 120_000 },
  async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const { a, b } = await startTwoInstancesOnCluster(t, { ...ALLOW, REDIS_WAIT_REPLICAS: '1' });
    const room = 'rwlog_wait';
    const { client: olga } = await connectV1(a.wsUrl, room, { name: 'Olga' });
    t.after(() => olga.close());
    assert.equal((await requestUntilAcked(olga, { type: 'message', text: 'mine' }, 'o1')).type, 'ack');
    const { client: bob, welcome: bobs } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    t.after(() => bob.close());
    // (A replica late on a busy machine: `unavailable`, and the owner sends it again.)
    let set = await webhook(olga, { url: `${receiver.url}${SECRET_PATH}`, events: ['message'] });
    for (let tries = 0; set.code === 'unavailable' && tries < 20; tries++)
      set = await webhook(olga, { url: `${receiver.url}${SECRET_PATH}`, events: ['message'] });
    assert.equal(set.type, 'webhook', JSON.stringify(set));
    const marker = (await requestUntilAcked(olga, { type: 'message', text: 'marker' }, 'o2')).id;
    // Each entry once (a resent set is an entry of its own), the last one the webhook now.
    const notices: any[] = [];
    for (let frame = await bob.next(10_000); frame.id !== marker; frame = await bob.next(10_000))
      if (frame.type === 'webhook') notices.push(frame);
    assert.ok(notices.length >= 1);
    assert.equal(new Set(notices.map((notice) => notice.eventId)).size, notices.length, 'once each');
    assert.deepEqual(notices.at(-1).webhook, { events: ['message'] });
    assert.match(notices.at(-1).eventId, /^\d+-\d+$/);
    const { client: back, welcome } = await connectV1(b.wsUrl, room, {
      name: 'Bob',
      token: bobs.token,
      since: bobs.lastEventId,
    });
    t.after(() => back.close());
    assert.deepEqual(welcome.webhookChanges, notices);
  },
);
