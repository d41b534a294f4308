import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { isPublicAddress } from '../src/integrations/address-policy.ts';
import { metric, startApp, type RunningApp } from './helpers/app.ts';
import { about, answer, TestReceiver, verifyAsReadmeShows, waitAbout, type Received } from './helpers/receiver.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { ServerProcess } from './helpers/server-process.ts';
import { connectV1, nextOfType, postV1, requestV1 } from './helpers/ws-client.ts';

/**
 * Outgoing webhooks, instance-wide (issue 17): real receivers on 127.0.0.1 (so the apps allow
 * private addresses, except where the refusal is the point), real sockets and bots. Each event
 * is POSTed signed, retried with the same delivery id, bounded by a queue, and told by one
 * instance of a cluster only.
 */

const SECRET = 'webhook-secret-for-the-tests-0001';
const ADMIN_TOKEN = 'operator-token-for-webhook-tests-0123';
const ALL_EVENTS = 'message,edit,delete,join,leave';

const verify = (request: Received): boolean => verifyAsReadmeShows(request, SECRET);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A Redis and a receiver of the test's own (stopped when it ends), and the settings of apps on
 * that Redis that send `events` to the receiver, signed.
 */
async function redisAndReceiver(
  t: TestContext,
  events: string,
): Promise<{ receiver: TestReceiver; env: Record<string, string> }> {
  const redis = await TestRedis.start();
  t.after(() => redis.stop());
  const receiver = await TestReceiver.start();
  t.after(() => receiver.close());
  const env = {
    REDIS_URL: redis.url,
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_EVENTS: events,
    WEBHOOK_ALLOW_PRIVATE: '1',
  };
  return { receiver, env };
}

describe('webhooks on one instance', () => {
  let receiver: TestReceiver;
  let app: RunningApp;

  before(async () => {
    receiver = await TestReceiver.start();
    app = await startApp(undefined, {
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: ALL_EVENTS,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_TIMEOUT_MS: '300',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_MAX_ATTEMPTS: '4',
    });
  });
  after(async () => {
    await app.app.close();
    await receiver.close();
  });

  test('a join, a message, its edit, its deletion and a leave each reach the receiver, signed, with their delivery id', async () => {
    const room = 'wh_events';
    const { client, welcome } = await connectV1(app.wsUrl, room, { name: 'Alice' });
    const alice = { id: welcome.you.id, name: 'Alice' };
    const id = await postV1(client, 'hello hooks', 'm1');
    assert.equal((await requestV1(client, { type: 'edit', id, text: 'hello, hooks' }, 'e1')).type, 'ack');
    const deleted = await requestV1(client, { type: 'delete', id }, 'd1');
    assert.equal(deleted.type, 'ack');
    client.close();

    const requests = await waitAbout(receiver, room, 5);
    for (const request of requests) {
      assert.ok(verify(request), `${request.json.event}: the signature verifies`);
      assert.equal(request.headers['parley-delivery'], request.json.deliveryId);
      assert.equal(request.headers['parley-event'], request.json.event);
      assert.match(request.json.deliveryId, /^d_[\w-]{24}$/);
      assert.equal(request.headers['content-type'], 'application/json');
    }
    const byEvent = Object.fromEntries(requests.map((r) => [r.json.event, r.json]));
    assert.deepEqual(Object.keys(byEvent).sort(), ['delete', 'edit', 'join', 'leave', 'message']);
    const { deliveryId: _m, ...message } = byEvent.message;
    assert.deepEqual(message, {
      event: 'message',
      room,
      ts: Number(id.split('-')[0]),
      message: { id, user: alice, text: 'hello hooks', clientMsgId: 'm1' },
    });
    assert.deepEqual(byEvent.edit.edit, { id, eventId: byEvent.edit.edit.eventId, text: 'hello, hooks', by: alice });
    assert.deepEqual(byEvent.delete.delete, { id, eventId: deleted.id, by: alice });
    assert.deepEqual(byEvent.join.user, alice);
    assert.deepEqual(byEvent.leave.user, alice);
    assert.equal(new Set(requests.map((r) => r.json.deliveryId)).size, 5, 'one id per event');
    await sleep(300);
    assert.equal(about(receiver, room).length, 5, 'nothing more');
  });

  test('a delivery is retried after a 500 and after a timeout, with the same delivery id and a fresh signature', async () => {
    const room = 'wh_retry';
    let calls = 0;
    receiver.handler = async (request, res) => {
      if (request.json?.room !== room || request.json.event !== 'message') return answer(res, 200, {});
      calls += 1;
      if (calls === 1) return answer(res, 500, { error: 'down for a moment' });
      if (calls === 2) {
        await sleep(700); // past WEBHOOK_TIMEOUT_MS (300): the server gives up on this attempt
        return answer(res, 200, {});
      }
      answer(res, 200, {});
    };
    const retriesBefore = await metric(app, 'parley_webhook_retries_total');
    const { client } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    const id = await postV1(client, 'worth retrying', 'r1');
    const requests = await waitAbout(receiver, room, 3, 'message');
    assert.equal(requests.length, 3, 'a 500, a timeout, then delivered');
    assert.equal(
      new Set(requests.map((r) => r.headers['parley-delivery'])).size,
      1,
      'one delivery id for every attempt',
    );
    assert.equal(new Set(requests.map((r) => r.body)).size, 1, 'the same body');
    assert.ok(requests.every(verify), 'every attempt is signed');
    assert.equal(requests[0]!.json.message.id, id);
    assert.ok(requests[1]!.at - requests[0]!.at >= 25, 'the retry waited (backoff)');
    assert.equal((await metric(app, 'parley_webhook_retries_total')) - retriesBefore, 2);
    await sleep(300);
    assert.equal(about(receiver, room).filter((r) => r.json.event === 'message').length, 3, 'no attempt after the 200');
    assert.ok((await metric(app, 'parley_webhook_deliveries_total{outcome="delivered"}')) >= 1);

    // A status that says "never" (400) is not retried.
    receiver.handler = (request, res) =>
      answer(res, request.json?.room === 'wh_final' && request.json.event === 'message' ? 400 : 200, {});
    const failedBefore = await metric(app, 'parley_webhook_deliveries_total{outcome="failed"}');
    const { client: carol } = await connectV1(app.wsUrl, 'wh_final', { name: 'Carol' });
    await postV1(carol, 'refused for good', 'f1');
    await waitAbout(receiver, 'wh_final', 1, 'message');
    await sleep(400);
    assert.equal(about(receiver, 'wh_final').filter((r) => r.json.event === 'message').length, 1);
    assert.equal(await metric(app, 'parley_webhook_deliveries_total{outcome="failed"}'), failedBefore + 1);
    receiver.handler = (_request, res) => answer(res, 200, {});
    client.close();
    carol.close();
  });

  test('a bot’s post is delivered like a person’s', async (t) => {
    const room = 'wh_bot';
    const operator = await startApp(t, {
      ADMIN_TOKEN,
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
    });
    const made = await fetch(`${operator.httpUrl}/api/admin/bots`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Deploy Bot' }),
    });
    const { key, bot } = (await made.json()) as { key: string; bot: { id: string } };
    const posted = await fetch(`${operator.httpUrl}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'deploy-1' },
      body: JSON.stringify({ text: 'deployed' }),
    });
    assert.equal(posted.status, 201);
    const [request] = await waitAbout(receiver, room, 1);
    assert.deepEqual(request!.json.message.user, { id: bot.id, name: 'Deploy Bot', bot: true });
    assert.equal(request!.json.message.clientMsgId, 'deploy-1');
  });

  test('a full queue drops new events, counted in /metrics', async (t) => {
    const slow = await TestReceiver.start();
    t.after(() => slow.close());
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    slow.handler = async (_request, res) => {
      await released;
      answer(res, 200, {});
    };
    const small = await startApp(t, {
      WEBHOOK_URLS: slow.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_QUEUE_MAX: '2',
      WEBHOOK_CONCURRENCY: '1',
      WEBHOOK_TIMEOUT_MS: '5000',
    });
    const { client } = await connectV1(small.wsUrl, 'wh_full', { name: 'Dan' });
    for (let i = 1; i <= 5; i++) await postV1(client, `message ${i}`, `q${i}`);
    // One in flight, one queued: the other three were dropped.
    assert.equal(await metric(small, 'parley_webhook_dropped_total{reason="queue_full"}'), 3);
    assert.equal(await metric(small, 'parley_webhook_queue'), 2);
    release();
    await slow.waitFor(2);
    await sleep(200);
    assert.deepEqual(
      slow.received.map((r) => r.json.message.text),
      ['message 1', 'message 2'],
      'what was held is delivered, in order',
    );
    assert.equal(await metric(small, 'parley_webhook_queue'), 0);
    client.close();
  });
});

describe('webhooks to private addresses', () => {
  test('addresses outside the public internet are told apart', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.20.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
    ])
      assert.equal(isPublicAddress(address), false, address);
    for (const address of ['::1', '::', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '64:ff9b::a00:1'])
      assert.equal(isPublicAddress(address), false, address);
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808'])
      assert.equal(isPublicAddress(address), true, address);
  });

  test('are refused by default, by address and by a name that resolves to one; nothing is sent', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const app = await startApp(t, {
      WEBHOOK_URLS: `${receiver.url},http://localhost:${receiver.port}/by-name`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_RETRY_BASE_MS: '10',
    });
    const { client } = await connectV1(app.wsUrl, 'wh_private', { name: 'Eve' });
    await postV1(client, 'to nowhere', 'p1');
    const deadline = Date.now() + 3000;
    while ((await metric(app, 'parley_webhook_deliveries_total{outcome="refused"}')) < 2) {
      assert.ok(Date.now() < deadline, 'both URLs refused');
      await sleep(50);
    }
    assert.equal(await metric(app, 'parley_webhook_attempts_total'), 2, 'one attempt each: a refusal is not retried');
    await sleep(200);
    assert.equal(receiver.received.length, 0, 'the receiver heard nothing');
    client.close();
  });
});

describe('webhooks in a cluster (two instances, one Redis)', () => {
  let redis: TestRedis;
  let receiver: TestReceiver;
  let a: RunningApp;
  let b: RunningApp;

  before(async () => {
    redis = await TestRedis.start();
    receiver = await TestReceiver.start();
    const env = {
      REDIS_URL: redis.url,
      ADMIN_TOKEN,
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: ALL_EVENTS,
      WEBHOOK_ALLOW_PRIVATE: '1',
    };
    a = await startApp(undefined, env);
    b = await startApp(undefined, env);
  });
  after(async () => {
    await a.app.close();
    await b.app.close();
    await receiver.close();
    await redis.stop();
  });

  test('each event is delivered once, by the instance that made it, though both see it on the bus', async () => {
    const room = 'wh_cluster';
    const { client: alice, welcome } = await connectV1(a.wsUrl, room, { name: 'Alice' });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    await nextOfType(alice, 'join');
    const first = await postV1(alice, 'from a', 'a1');
    const second = await postV1(bob, 'from b', 'b1');
    await requestV1(alice, { type: 'edit', id: first, text: 'from a, edited' }, 'a2');
    await requestV1(bob, { type: 'delete', id: second }, 'b2');
    // A second tab of Alice's, on the other instance: no join; her first tab closes: no leave.
    const { client: aliceAgain } = await connectV1(b.wsUrl, room, { name: 'Alice', token: welcome.token });
    alice.close();
    await sleep(300);
    aliceAgain.close();
    bob.close();

    // Alice's join and leave, Bob's join and leave, two messages, an edit, a deletion.
    const requests = await waitAbout(receiver, room, 8);
    await sleep(500); // (time for a second copy from the other instance, if there were one)
    const all = about(receiver, room);
    const count = (event: string) => all.filter((r) => r.json.event === event).length;
    assert.deepEqual(
      {
        join: count('join'),
        leave: count('leave'),
        message: count('message'),
        edit: count('edit'),
        delete: count('delete'),
      },
      { join: 2, leave: 2, message: 2, edit: 1, delete: 1 },
    );
    assert.equal(new Set(all.map((r) => r.json.deliveryId)).size, all.length, 'no event twice');
    assert.ok(requests.every(verify));
    assert.deepEqual(
      all
        .filter((r) => r.json.event === 'leave')
        .map((r) => r.json.user.name)
        .sort(),
      ['Alice', 'Bob'],
    );
  });

  test('a resend of a stored message through the other instance is told again under the same delivery id', async () => {
    const room = 'wh_resend';
    const { client: first, welcome } = await connectV1(a.wsUrl, room, { name: 'Fay' });
    const id = await postV1(first, 'sent twice', 'once');
    first.close();
    const { client: again } = await connectV1(b.wsUrl, room, { name: 'Fay', token: welcome.token });
    assert.equal(await postV1(again, 'sent twice', 'once'), id, 'the resend is the same message');
    again.close();
    const told = await waitAbout(receiver, room, 2, 'message');
    assert.equal(new Set(told.map((r) => r.json.deliveryId)).size, 1, 'the receiver can tell it is the same event');
    assert.equal(told[0]!.body, told[1]!.body);
  });
});

test('on shutdown, the deliveries queued or in flight are made before the server stops', async (t) => {
  const receiver = await TestReceiver.start();
  t.after(() => receiver.close());
  // A slow receiver, one POST at a time: five deliveries take about a second.
  receiver.handler = async (_request, res) => {
    await sleep(200);
    answer(res, 200, {});
  };
  const { app, wsUrl } = await startApp(t, {
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: '1',
    WEBHOOK_CONCURRENCY: '1',
    // (Sockets closed at once: the deliveries do not get the sockets' drain for free.)
    DRAIN_MS: '0',
  });
  const room = 'wh_shutdown';
  const { client } = await connectV1(wsUrl, room, { name: 'Last' });
  for (let i = 0; i < 5; i++) await postV1(client, `before the deploy ${i}`);
  // The server stops at once: the deliveries still queued or in flight are made first. (The
  // test's own close, should an assertion fail first, is a no-op after this one.)
  await app.close();
  assert.deepEqual(
    about(receiver, room)
      .filter((r) => r.json.event === 'message')
      .map((r) => r.json.message.text),
    Array.from({ length: 5 }, (_, i) => `before the deploy ${i}`),
  );
});

test('on shutdown, a delivery waiting for its retry is tried at once, not lost', async (t) => {
  const receiver = await TestReceiver.start();
  t.after(() => receiver.close());
  // The receiver is down for the first attempt of each delivery, up for the next.
  const seen = new Set<string>();
  receiver.handler = async (request, res) => {
    const id = String(request.headers['parley-delivery']);
    if (seen.has(id)) return answer(res, 200, {});
    seen.add(id);
    answer(res, 503, {});
  };
  const { app, wsUrl } = await startApp(t, {
    WEBHOOK_URLS: receiver.url,
    WEBHOOK_SECRET: SECRET,
    WEBHOOK_ALLOW_PRIVATE: '1',
    // A retry a minute away: without the drain it would be lost to the stop.
    WEBHOOK_RETRY_BASE_MS: '60000',
    DRAIN_MS: '0',
  });
  const room = 'wh_shutdown_retry';
  const { client } = await connectV1(wsUrl, room, { name: 'Last' });
  await postV1(client, 'waiting for its retry');
  await waitAbout(receiver, room, 1, 'message'); // the first attempt, answered 503
  await app.close();
  const attempts = about(receiver, room).filter((r) => r.json.event === 'message');
  assert.equal(attempts.length, 2, 'the first attempt, and the retry made while stopping');
  assert.equal(attempts[1]!.json.message.text, 'waiting for its retry');
  assert.equal(attempts[0]!.json.deliveryId, attempts[1]!.json.deliveryId, 'the same delivery');
});

describe('room.occupied and room.vacated', () => {
  const ROOM_EVENTS = 'room.occupied,room.vacated';

  test('the first person in and the last one out, once each, signed', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const app = await startApp(t, {
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_EVENTS: ROOM_EVENTS,
      WEBHOOK_ALLOW_PRIVATE: '1',
    });
    const room = 'wh_occupancy';
    const { client: alice, welcome } = await connectV1(app.wsUrl, room, { name: 'Alice' });
    const [occupied] = await waitAbout(receiver, room, 1);
    assert.equal(occupied!.json.event, 'room.occupied');
    assert.deepEqual(occupied!.json.user, { id: welcome.you.id, name: 'Alice' });
    assert.ok(verify(occupied!));
    assert.equal(occupied!.headers['parley-event'], 'room.occupied');
    // A second person, a second tab of the first, the first leaving: the room stays occupied.
    const { client: bob, welcome: bobs } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    const { client: aliceAgain } = await connectV1(app.wsUrl, room, { name: 'Alice', token: welcome.token });
    alice.close();
    aliceAgain.close();
    await sleep(300);
    assert.equal(about(receiver, room).length, 1);
    bob.close();
    const [, vacated] = await waitAbout(receiver, room, 2);
    assert.equal(vacated!.json.event, 'room.vacated');
    assert.deepEqual(vacated!.json.user, { id: bobs.you.id, name: 'Bob' }, 'the last one out');
    assert.ok(verify(vacated!));
    assert.notEqual(vacated!.json.deliveryId, occupied!.json.deliveryId);
    await sleep(200);
    assert.equal(about(receiver, room).length, 2);
  });

  test('a room whose instance died: its people leave and the room is vacated once their presence expires', async (t) => {
    const { receiver, env: cluster } = await redisAndReceiver(t, `leave,${ROOM_EVENTS}`);
    const env = { ...cluster, PRESENCE_TTL_SECONDS: '1' };
    const doomed = await ServerProcess.start(env);
    t.after(() => doomed.stop('SIGKILL'));
    const survivor = await startApp(t, env);
    const room = 'wh_abandoned';
    const { welcome } = await connectV1(doomed.wsUrl, room, { name: 'Ada' });
    await waitAbout(receiver, room, 1);
    // And a room Ada's instance shares with the survivor: there, the survivor's own presence
    // calls drop her expired entry in passing.
    const shared = 'wh_abandoned_shared';
    const { welcome: adas } = await connectV1(doomed.wsUrl, shared, { name: 'Ada' });
    const { client: bo } = await connectV1(survivor.wsUrl, shared, { name: 'Bo' });
    t.after(() => bo.close());
    await waitAbout(receiver, shared, 1);
    // The instance dies with Ada in the room: nobody there runs a presence script any more, so
    // the surviving instance's sweep must find the room (its occupied mark stops being renewed).
    await doomed.stop('SIGKILL');
    const told = await waitAbout(receiver, room, 3, undefined, 10_000);
    assert.deepEqual(
      told.map((r) => r.json.event),
      ['room.occupied', 'leave', 'room.vacated'],
    );
    for (const r of told) assert.equal(r.json.user.id, welcome.you.id);
    assert.equal(told[1]!.json.user.name, 'Ada');
    // Once each (every instance sweeps; only the one whose sweep dropped Ada tells), and the room
    // is no longer listed as occupied.
    await sleep(1500);
    assert.equal(about(receiver, room).length, 3);
    // In the shared room, Ada's leave alone: Bo is still there.
    assert.deepEqual(
      about(receiver, shared).map((r) => [r.json.event, r.json.user.id]),
      [
        ['room.occupied', adas.you.id],
        ['leave', adas.you.id],
      ],
    );
    const rooms = (await (await fetch(`${survivor.httpUrl}/api/rooms`)).json()) as {
      rooms: Array<{ room: string; members: number }>;
    };
    assert.equal(rooms.rooms.find((r) => r.room === room)?.members ?? 0, 0);
  });

  test('in a cluster: people arriving and leaving through both instances at once make one of each', async (t) => {
    const { receiver, env } = await redisAndReceiver(t, ROOM_EVENTS);
    const a = await startApp(t, env);
    const b = await startApp(t, env);
    const room = 'wh_occupancy_cluster';
    for (let round = 1; round <= 2; round++) {
      const people = await Promise.all(
        ['Ann', 'Ben', 'Cat', 'Dov'].map((name, i) => connectV1((i % 2 === 0 ? a : b).wsUrl, room, { name })),
      );
      await waitAbout(receiver, room, 2 * round - 1);
      for (const { client } of people) client.close();
      await waitAbout(receiver, room, 2 * round);
      await sleep(300);
      assert.deepEqual(
        about(receiver, room).map((r) => r.json.event),
        Array.from({ length: round }, () => ['room.occupied', 'room.vacated']).flat(),
        `round ${round}`,
      );
    }
  });
});
