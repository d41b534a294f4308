import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { addressProblem } from '../src/integrations/address-policy.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { about, answer, TestReceiver, verifyAsReadmeShows, waitAbout } from './helpers/receiver.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, json, nextOfType, postV1, requestV1, type TestClient } from './helpers/ws-client.ts';

/**
 * Rooms' webhooks, set by their owners (issue 17): real receivers on 127.0.0.1 (so the apps set
 * ROOM_WEBHOOK_ALLOW_PRIVATE, except where the refusal is the point), real sockets. The owner
 * sets, changes, asks about and removes the webhook with `webhook` frames; deliveries are signed
 * with the webhook's own secret; nobody else ever sees its URL.
 */

const ADMIN_TOKEN = 'operator-token-for-room-webhook-tests-01';
const ALLOW = { ROOM_WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_BASE_MS: '20' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const verify = verifyAsReadmeShows;

let requests = 0;

/** Sends a `webhook` frame and returns the answer about it: the owner's `webhook` frame or an `error`. */
async function webhook(client: TestClient, frame: Record<string, unknown> = {}): Promise<any> {
  const clientMsgId = `w${requests++}`;
  client.send({ type: 'webhook', ...frame, clientMsgId });
  for (;;) {
    const reply = await client.next(5000);
    if ((reply.type === 'webhook' || reply.type === 'error') && reply.clientMsgId === clientMsgId) return reply;
  }
}

/** Every text frame a socket receives from now on, as it arrived (to look for the URL in). */
function recordFrames(client: TestClient): string[] {
  const frames: string[] = [];
  client.socket.on('message', (data) => frames.push(data.toString()));
  return frames;
}

/** Opens a room owned by `name` (the first to post owns a room). */
async function ownRoom(app: RunningApp, room: string, name = 'Olga') {
  const owner = await connectV1(app.wsUrl, room, { name });
  await postV1(owner.client, 'mine now');
  return owner;
}

describe('room webhooks on one instance', () => {
  let receiver: TestReceiver;
  let app: RunningApp;

  before(async () => {
    receiver = await TestReceiver.start();
    app = await startApp(undefined, { ...ALLOW, ADMIN_TOKEN });
  });
  after(async () => {
    await app.app.close();
    await receiver.close();
  });

  test('the owner sets it and gets the secret once; moderators and members are refused; everyone learns which events leave', async () => {
    const room = 'rw_owner';
    const { client: olga, welcome } = await ownRoom(app, room);
    const { client: mona, welcome: monas } = await connectV1(app.wsUrl, room, { name: 'Mona' });
    const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    assert.equal((await requestV1(olga, { type: 'moderate', action: 'promote', userId: monas.you.id })).type, 'ack');
    const seenByMona = recordFrames(mona);
    const seenByBob = recordFrames(bob);

    const url = `${receiver.url}/${room}?token=s3cret-of-the-receiver`;
    for (const [who, client] of [
      ['a moderator', mona],
      ['a member', bob],
    ] as const) {
      const set = await webhook(client, { url });
      assert.equal(set.type, 'error', who);
      assert.equal(set.code, 'forbidden', who);
      assert.equal((await webhook(client)).code, 'forbidden', `${who} may not even ask`);
    }

    const set = await webhook(olga, { url, events: ['message', 'edit', 'join'] });
    assert.equal(set.type, 'webhook');
    assert.match(set.webhook.secret, /^whsec_[\w-]{32}$/);
    assert.deepEqual(set.webhook.events, ['message', 'edit', 'join']);
    assert.equal(set.webhook.url, `${receiver.url}/${room}?token=…`, 'the owner sees it redacted');
    const notice = await nextOfType(bob, 'webhook');
    assert.match(notice.eventId, /^\d+-\d+$/, 'an entry of the room’s log');
    assert.deepEqual(notice, {
      type: 'webhook',
      webhook: { events: ['message', 'edit', 'join'] },
      by: { id: welcome.you.id, name: 'Olga' },
      eventId: notice.eventId,
      action: 'set',
    });
    assert.deepEqual(await nextOfType(mona, 'webhook'), notice);

    const asked = await webhook(olga);
    assert.equal(asked.webhook.secret, undefined, 'the secret is shown once');
    assert.equal(asked.webhook.url, set.webhook.url);
    assert.deepEqual(asked.webhook.deliveries, {
      delivered: 0,
      failed: 0,
      retried: 0,
      dropped: 0,
      queued: 0,
      failures: [],
    });

    // A new arrival's welcome says so too, without the URL; so does the owner's.
    const { client: carl, welcome: carls } = await connectV1(app.wsUrl, room, { name: 'Carl' });
    assert.deepEqual(carls.webhook, { events: ['message', 'edit', 'join'] });
    const { client: olgaAgain, welcome: olgas } = await connectV1(app.wsUrl, room, {
      name: 'Olga',
      token: welcome.token,
    });
    assert.deepEqual(olgas.webhook, { events: ['message', 'edit', 'join'] });
    for (const frames of [seenByMona, seenByBob, [JSON.stringify(carls)], [JSON.stringify(olgas)]])
      for (const frame of frames) {
        assert.ok(!frame.includes(String(receiver.port)), `no URL in ${frame}`);
        assert.ok(!frame.includes('whsec_'), `no secret in ${frame}`);
      }
    for (const client of [olga, mona, bob, carl, olgaAgain]) client.close();
  });

  test('the chosen events arrive signed with the room’s own secret, and only those, only from this room', async () => {
    const room = 'rw_events';
    receiver.reset();
    const { client: olga } = await ownRoom(app, room);
    const set = await webhook(olga, { url: receiver.url, events: ['message', 'edit', 'join'] });
    const { secret } = set.webhook;
    const { client: bob, welcome: bobs } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    const id = await postV1(bob, 'hello, room hook', 'b1');
    assert.equal((await requestV1(bob, { type: 'edit', id, text: 'hello, room hook!' })).type, 'ack');
    assert.equal((await requestV1(bob, { type: 'delete', id })).type, 'ack', 'not chosen: not delivered');
    bob.close(); // a leave: not chosen
    const { client: elsewhere } = await connectV1(app.wsUrl, 'rw_no_hook', { name: 'Zed' });
    await postV1(elsewhere, 'a room without a webhook');

    const requests = await waitAbout(receiver, room, 3);
    await sleep(400);
    const all = about(receiver, room);
    assert.deepEqual(all.map((r) => r.json.event).sort(), ['edit', 'join', 'message']);
    assert.equal(receiver.received.length, 3, 'nothing about the other room');
    for (const request of requests) {
      assert.ok(verify(request, secret), `${request.json.event}: signed with the room webhook's secret`);
      assert.equal(request.headers['parley-delivery'], request.json.deliveryId);
      assert.equal(request.headers['parley-event'], request.json.event);
      assert.match(request.json.deliveryId, /^d_[\w-]{24}$/);
    }
    const message = all.find((r) => r.json.event === 'message')!.json;
    assert.deepEqual(message.message, {
      id,
      user: { id: bobs.you.id, name: 'Bob' },
      text: 'hello, room hook',
      clientMsgId: 'b1',
    });
    assert.deepEqual(all.find((r) => r.json.event === 'join')!.json.user, { id: bobs.you.id, name: 'Bob' });
    olga.close();
    elsewhere.close();
  });

  test('the events change with the URL and secret kept; removing it stops deliveries', async () => {
    const room = 'rw_change';
    receiver.reset();
    const { client: olga } = await ownRoom(app, room);
    const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    assert.equal((await webhook(olga, { events: ['message'] })).code, 'not_found', 'no webhook to change yet');
    const { secret } = (await webhook(olga, { url: receiver.url, events: ['join'] })).webhook;
    await nextOfType(bob, 'webhook');

    const changed = await webhook(olga, { events: ['message', 'delete'] });
    assert.deepEqual(changed.webhook, { events: ['message', 'delete'], url: receiver.url }, 'no new secret');
    assert.deepEqual((await nextOfType(bob, 'webhook')).webhook, { events: ['message', 'delete'] });
    await postV1(bob, 'still signed with the first secret');
    const [delivered] = await waitAbout(receiver, room, 1, 'message');
    assert.ok(verify(delivered!, secret));

    const removed = await webhook(olga, { url: null });
    assert.deepEqual(removed, { type: 'webhook', webhook: null, clientMsgId: removed.clientMsgId });
    assert.deepEqual((await nextOfType(bob, 'webhook')).webhook, null);
    await postV1(bob, 'after the removal');
    await postV1(olga, 'and another');
    await sleep(400);
    assert.equal(about(receiver, room).length, 1, 'nothing after the removal');
    assert.equal((await webhook(olga)).webhook, null);
    assert.equal((await webhook(olga, { url: null })).webhook, null, 'removing none is no error');
    await postV1(olga, 'marker');
    for (let frame = await bob.next(); frame.text !== 'marker'; frame = await bob.next())
      assert.notEqual(frame.type, 'webhook', 'removing none tells nobody');
    assert.equal((await webhook(olga, { events: ['join'] })).code, 'not_found');
    const { welcome } = await connectV1(app.wsUrl, room, { name: 'Ann' });
    assert.equal(welcome.webhook, undefined);
    olga.close();
    bob.close();
  });

  test('the URL is never in another person’s frames, in welcomes or in recovery, nor in history pages', async () => {
    const room = 'rw_private_url';
    const { client: olga, welcome } = await ownRoom(app, room);
    const { client: bob, welcome: bobs } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    const seen = recordFrames(bob);
    const path = '/only-the-owner-knows-this-path';
    await webhook(olga, { url: `${receiver.url}${path}`, events: ['message'] });
    await postV1(olga, 'after the webhook');
    await webhook(olga, { events: ['message', 'edit'] });
    bob.close();
    await postV1(olga, 'while Bob was away');
    // Bob comes back with `since`: his recovery, the history pages, the owner's own welcome.
    const { client: back, welcome: recovered } = await connectV1(app.wsUrl, room, {
      name: 'Bob',
      token: bobs.token,
      since: welcome.lastEventId ?? welcome.history.at(-1)?.id ?? '0-0',
    });
    assert.equal(recovered.recovered, true);
    assert.deepEqual(recovered.webhook, { events: ['message', 'edit'] });
    const page = await (await fetch(`${app.httpUrl}/api/rooms/${room}/messages?after=0-0`)).text();
    const { welcome: owners } = await connectV1(app.wsUrl, room, { name: 'Olga', token: welcome.token });
    for (const text of [...seen, JSON.stringify(recovered), page, JSON.stringify(owners)]) {
      assert.ok(!text.includes(path), `no URL in ${text.slice(0, 200)}`);
      assert.ok(!text.includes(String(receiver.port)), `no port in ${text.slice(0, 200)}`);
    }
    olga.close();
    back.close();
  });

  test('a failing receiver is not disabled: the owner and the operator see its failures', async () => {
    const room = 'rw_failing';
    receiver.handler = (request, res) => answer(res, request.json?.room === room ? 503 : 200, {});
    const { client: olga } = await ownRoom(app, room);
    const url = `${receiver.url}/failing?key=abc`;
    await webhook(olga, { url, events: ['message'] });
    await postV1(olga, 'first, to a receiver that is down');
    // WEBHOOK_MAX_ATTEMPTS (5) attempts, then given up.
    await waitAbout(receiver, room, 5);
    let asked: any;
    for (const deadline = Date.now() + 5000; ; await sleep(50)) {
      asked = await webhook(olga);
      if (asked.webhook.deliveries.failed === 1 || Date.now() > deadline) break;
    }
    const { deliveries } = asked.webhook;
    assert.equal(deliveries.failed, 1);
    assert.equal(deliveries.retried, 4);
    assert.equal(deliveries.last.status, 503);
    assert.ok(deliveries.failures.length >= 1 && deliveries.failures.length <= 20);
    assert.equal(deliveries.failures[0].error, 'status 503');

    receiver.handler = (_request, res) => answer(res, 200, {});
    await postV1(olga, 'second, to a receiver that is back');
    await waitAbout(receiver, room, 6);
    const admin = await json(
      await fetch(`${app.httpUrl}/api/admin/webhooks`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }),
    );
    const listed = admin.webhooks.find((w: any) => w.kind === 'room' && w.room === room);
    assert.ok(listed, 'the operator sees the room’s webhook');
    assert.equal(listed.url, `${receiver.url}/failing?key=…`);
    assert.deepEqual(listed.events, ['message']);
    assert.equal(listed.instances[0].failed, 1);
    assert.ok(listed.instances[0].delivered >= 1);
    assert.ok(!JSON.stringify(admin).includes('abc'));
    olga.close();
  });
});

describe('room webhooks and private addresses', () => {
  test('are refused when set, by address and by name, even with WEBHOOK_ALLOW_PRIVATE; nothing is stored or sent', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    // The operator's own webhooks may reach the private network; rooms' owners may not.
    const app = await startApp(t, { WEBHOOK_ALLOW_PRIVATE: '1' });
    const room = 'rw_refused';
    const { client: olga } = await ownRoom(app, room);
    const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    for (const url of [
      receiver.url,
      `http://localhost:${receiver.port}/hook`,
      `http://sub.localhost:${receiver.port}/hook`,
      'http://[::1]/hook',
      'http://10.0.0.8/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:127.0.0.1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const refused = await webhook(olga, { url });
      assert.equal(refused.type, 'error', url);
      assert.equal(refused.code, 'webhook_url_refused', url);
      assert.match(refused.message, /not a public address|this server itself/, url);
      assert.doesNotMatch(refused.message, /ALLOW_PRIVATE/, 'owners are not told of settings they cannot change');
    }
    assert.equal((await webhook(olga)).webhook, null, 'nothing stored');
    await bob.expectSilence(200);
    await postV1(olga, 'to nowhere');
    await sleep(200);
    assert.equal(receiver.received.length, 0);
    olga.close();
    bob.close();
  });

  test('the check of a name: loopback names, names that resolve to private addresses, names that do not resolve', async () => {
    assert.match((await addressProblem(new URL('http://localhost/'), 2000))!, /this server itself/);
    assert.match((await addressProblem(new URL('http://LOCALHOST./'), 2000))!, /this server itself/);
    assert.match((await addressProblem(new URL('http://127.0.0.1:8080/'), 2000))!, /not a public address/);
    assert.match((await addressProblem(new URL('http://[fd00::1]/'), 2000))!, /not a public address/);
    assert.match((await addressProblem(new URL('http://nothing.invalid/'), 2000))!, /does not resolve/);
    assert.equal(await addressProblem(new URL('http://93.184.215.14/'), 2000), undefined);
    assert.equal(await addressProblem(new URL('https://[2606:4700:4700::1111]/'), 2000), undefined);
  });
});

describe('MAX_ROOM_WEBHOOKS', () => {
  test('bounds the rooms with a webhook; 0 turns them off', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const app = await startApp(t, { ...ALLOW, MAX_ROOM_WEBHOOKS: '1' });
    const { client: first } = await ownRoom(app, 'rw_max_a');
    const { client: second } = await ownRoom(app, 'rw_max_b');
    assert.equal((await webhook(first, { url: receiver.url })).type, 'webhook');
    assert.equal((await webhook(second, { url: receiver.url })).code, 'too_many_webhooks');
    assert.equal(
      (await webhook(first, { url: `${receiver.url}/again` })).type,
      'webhook',
      'a room may replace its own',
    );
    await webhook(first, { url: null });
    assert.equal((await webhook(second, { url: receiver.url })).type, 'webhook', 'room again once one went');
    first.close();
    second.close();

    const off = await startApp(t, { ...ALLOW, MAX_ROOM_WEBHOOKS: '0' });
    const { client } = await ownRoom(off, 'rw_off');
    const refused = await webhook(client, { url: receiver.url });
    assert.equal(refused.code, 'forbidden');
    assert.match(refused.message, /does not send room webhooks/);
    client.close();
  });

  test('a room’s webhook goes when the room’s state expires (memory engine)', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const app = await startApp(t, { ...ALLOW, ROOM_TTL_SECONDS: '1', MAX_ROOM_WEBHOOKS: '1' });
    const { client: olga } = await ownRoom(app, 'rw_expiring');
    await webhook(olga, { url: receiver.url, events: ['message', 'join'] });
    olga.close();
    await sleep(2600);
    const { client: next, welcome } = await connectV1(app.wsUrl, 'rw_expiring', { name: 'Next' });
    assert.equal(welcome.webhook, undefined, 'forgotten with the room');
    await postV1(next, 'a new room under the old name');
    assert.equal((await webhook(next)).webhook, null, 'the new owner finds none');
    // And the bound counts it no more.
    const { client: other } = await ownRoom(app, 'rw_expiring_other');
    assert.equal((await webhook(other, { url: receiver.url })).type, 'webhook');
    await sleep(300);
    assert.equal(about(receiver, 'rw_expiring').filter((r) => r.json.event === 'message').length, 0);
    next.close();
    other.close();
  });
});

describe('room webhooks in a cluster (two instances, one Redis)', () => {
  let redis: TestRedis;
  let receiver: TestReceiver;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;

  before(async () => {
    receiver = await TestReceiver.start();
    ({ redis, a, b, stop } = await startTwoInstances(undefined, { ...ALLOW, MAX_ROOM_WEBHOOKS: '3' }));
  });
  after(async () => {
    await stop();
    await receiver.close();
  });

  test('each event is delivered once, signed with the room’s secret, whichever instance made it', async () => {
    const room = 'rw_cluster';
    const { client: olga } = await ownRoom(a, room);
    const all = ['message', 'edit', 'delete', 'join', 'leave', 'room.occupied', 'room.vacated'];
    const set = await webhook(olga, { url: receiver.url, events: all });
    const { client: bob, welcome: bobs } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    assert.deepEqual(bobs.webhook, { events: all }, 'the other instance’s welcome says so');
    const first = await postV1(olga, 'from a');
    const second = await postV1(bob, 'from b');
    await requestV1(olga, { type: 'edit', id: first, text: 'from a, edited' });
    await requestV1(bob, { type: 'delete', id: second });
    bob.close();
    await sleep(300);
    olga.close();

    // Bob's join and leave, two messages, an edit, a deletion, Olga's leave and the room vacated.
    const requests = await waitAbout(receiver, room, 8);
    await sleep(500); // (time for a second copy from the other instance, if there were one)
    const delivered = about(receiver, room);
    const count = (event: string) => delivered.filter((r) => r.json.event === event).length;
    assert.deepEqual(Object.fromEntries(all.map((event) => [event, count(event)])), {
      message: 2,
      edit: 1,
      delete: 1,
      join: 1,
      leave: 2,
      'room.occupied': 0,
      'room.vacated': 1,
    });
    assert.equal(new Set(delivered.map((r) => r.json.deliveryId)).size, delivered.length, 'no event twice');
    assert.ok(requests.every((request) => verify(request, set.webhook.secret)));
  });

  test('the owner’s view adds up both instances’ deliveries; the webhook lives in the room’s hash and expires with it', async () => {
    const room = 'rw_cluster_view';
    receiver.reset();
    const { client: olga } = await ownRoom(a, room);
    await webhook(olga, { url: receiver.url, events: ['message'] });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    await postV1(olga, 'one from a');
    await postV1(bob, 'one from b');
    await waitAbout(receiver, room, 2);
    let deliveries: any;
    for (const deadline = Date.now() + 9000; Date.now() < deadline; await sleep(250)) {
      deliveries = (await webhook(olga)).webhook.deliveries;
      if (deliveries.delivered === 2) break;
    }
    assert.equal(deliveries.delivered, 2, 'a’s own, and b’s from its report');
    assert.equal(deliveries.last.status, 200);

    const direct = new Redis(redis.url);
    try {
      const key = `parley:{${room}}:moderation`;
      assert.equal(await direct.hexists(key, 'hook'), 1);
      assert.equal(await direct.hget(key, 'hookev'), 'message');
      const ttl = await direct.pttl(key);
      assert.ok(ttl > 0, 'it expires with the room’s roles and settings');
      assert.equal(await direct.sismember('parley:room-webhooks', room), 1);
    } finally {
      direct.disconnect();
    }
    olga.close();
    bob.close();
  });

  test('removing it through one instance stops the other’s deliveries (within its refresh); the bound drops expired rooms', async () => {
    const room = 'rw_cluster_clear';
    receiver.reset();
    const { client: olga } = await ownRoom(a, room);
    await webhook(olga, { url: receiver.url, events: ['message'] });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    await postV1(bob, 'delivered by b');
    await waitAbout(receiver, room, 1);
    await webhook(olga, { url: null });
    assert.deepEqual((await nextOfType(bob, 'webhook')).webhook, null, 'b’s socket hears of it at once');
    await sleep(2500); // b re-reads the webhooks version every 2 s
    await postV1(bob, 'not delivered by b');
    await postV1(olga, 'not delivered by a');
    await sleep(500);
    assert.equal(about(receiver, room).length, 1);

    // MAX_ROOM_WEBHOOKS is 3: rw_cluster, rw_cluster_view and this room again hold them. A room
    // whose state expired (its hash gone) no longer counts once the bound is reached.
    assert.equal((await webhook(olga, { url: receiver.url })).type, 'webhook');
    const { client: other } = await ownRoom(b, 'rw_cluster_more');
    assert.equal((await webhook(other, { url: receiver.url })).code, 'too_many_webhooks');
    const direct = new Redis(redis.url);
    try {
      await direct.del('parley:{rw_cluster}:moderation');
    } finally {
      direct.disconnect();
    }
    assert.equal((await webhook(other, { url: receiver.url })).type, 'webhook');
    olga.close();
    bob.close();
    other.close();
  });
});
