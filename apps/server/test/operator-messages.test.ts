import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, json, nextOfType, postV1, requestV1, TestClient } from './helpers/ws-client.ts';

/**
 * The operator deletes one message of any room (DELETE /api/admin/rooms/<room>/messages/<id>),
 * reads a room's messages to find it, and makes an invite to any room (POST
 * /api/admin/rooms/<room>/invites), on both engines; on Redis, with two instances, the operator
 * asking one and the people on the other.
 */

const ADMIN_TOKEN = 'operator-token-for-the-tests-0123456789';

const admin = (app: RunningApp, path: string, init: RequestInit = {}) =>
  fetch(`${app.httpUrl}${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...init.headers,
    },
  });

const deleteMessage = (app: RunningApp, room: string, id: string) =>
  admin(app, `/api/admin/rooms/${encodeURIComponent(room)}/messages/${encodeURIComponent(id)}`, { method: 'DELETE' });

const makeInvite = (
  app: RunningApp,
  room: string,
  body?: Record<string, unknown>,
  headers: Record<string, string> = {},
) =>
  admin(app, `/api/admin/rooms/${encodeURIComponent(room)}/invites`, {
    method: 'POST',
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });

/** Opens a v1 socket with a query of its own (an invite) and returns its first frame. */
async function enter(wsUrl: string, room: string, query: string) {
  const client = await TestClient.connect(`${wsUrl}/ws/chat/${encodeURIComponent(room)}/?name=Nina${query}`, {
    protocols: ['parley.v1'],
  });
  return { client, first: await client.next() };
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`the operator's message deletion and invites over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    /** Where the people are: a second instance on the same Redis (the app itself on memory). */
    let people: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      const env = { REDIS_URL: redis?.url, ADMIN_TOKEN };
      app = await startApp(undefined, env);
      people = engine === 'redis' ? await startApp(undefined, env) : app;
    });
    after(async () => {
      await app.app.close();
      if (people !== app) await people.app.close();
      await redis?.stop();
    });

    test('nothing without the token: no deletion, no page, no invite', async () => {
      const room = `locked_${engine}`;
      const owner = await connectV1(people.wsUrl, room, { name: 'Olga' });
      const id = await postV1(owner.client, 'stays');
      for (const headers of [{}, { authorization: 'Bearer wrong-token-wrong-token-wrong' }] as Record<
        string,
        string
      >[]) {
        const attempts = [
          fetch(`${app.httpUrl}/api/admin/rooms/${room}/messages/${id}`, { method: 'DELETE', headers }),
          fetch(`${app.httpUrl}/api/admin/rooms/${room}/messages`, { headers }),
          fetch(`${app.httpUrl}/api/admin/rooms/${room}/invites`, { method: 'POST', headers }),
        ];
        for (const res of await Promise.all(attempts)) {
          assert.equal(res.status, 401, res.url);
          assert.equal((await json(res)).error, 'unauthorized');
        }
      }
      const page = await json(await fetch(`${app.httpUrl}/api/rooms/${room}/messages`));
      assert.deepEqual(
        page.messages.map((m: any) => [m.id, m.text]),
        [[id, 'stays']],
      );
      owner.client.close();
    });

    test('a deletion reaches the sockets, is answered again on a retry, and a recovering client never sees the message', async () => {
      const room = `tidy_${engine}`;
      const owner = await connectV1(people.wsUrl, room, { name: 'Olga' });
      const bob = await connectV1(people.wsUrl, room, { name: 'Bob' });
      const first = await postV1(owner.client, 'hello');
      // Carol saw the first message, then went away.
      const carol = await connectV1(people.wsUrl, room, { name: 'Carol' });
      carol.client.close();
      const spam = await postV1(bob.client, 'buy cheap watches');
      const last = await postV1(owner.client, 'anyway');

      // The operator finds it in the room's latest messages.
      const listed = await json(await admin(app, `/api/admin/rooms/${room}/messages?limit=10`));
      assert.deepEqual(
        listed.messages.map((m: any) => [m.id, m.text]),
        [
          [first, 'hello'],
          [spam, 'buy cheap watches'],
          [last, 'anyway'],
        ],
      );
      assert.equal(listed.hasMore, false);

      const res = await deleteMessage(app, room, spam);
      assert.equal(res.status, 200);
      const { eventId } = await json(res);
      assert.match(eventId, /^\d+-\d+$/);

      // Live, on the people's instance: the `delete` event, an entry of the log.
      const deleted = await nextOfType(owner.client, 'delete', 5000);
      assert.deepEqual([deleted.id, deleted.eventId], [spam, eventId]);
      assert.equal((await nextOfType(bob.client, 'delete', 5000)).id, spam);

      // A retried DELETE (a lost answer) is answered with the same entry and deletes nothing more.
      const again = await deleteMessage(app, room, spam);
      assert.equal(again.status, 200);
      assert.equal((await json(again)).eventId, eventId);

      // Carol, back with the `since` she had: the message comes deleted, without its text.
      const back = await connectV1(people.wsUrl, room, { name: 'Carol', token: carol.welcome.token, since: first });
      assert.deepEqual(
        back.welcome.history.map((m: any) => [m.id, m.deleted ?? false, m.text]),
        [
          [spam, true, undefined],
          [last, false, 'anyway'],
        ],
      );
      assert.ok(!JSON.stringify(back.welcome).includes('cheap watches'), 'the text is nowhere in the welcome');
      // Someone who saw it before it went is told of the deletion on recovery.
      const earlier = await connectV1(people.wsUrl, room, { name: 'Dan', since: last });
      assert.deepEqual(
        earlier.welcome.changes?.map((c: any) => [c.type, c.id, c.eventId]),
        [['delete', spam, eventId]],
      );
      // The operator's page shows it deleted too; the others are as they were.
      const page = await json(await admin(app, `/api/admin/rooms/${room}/messages`));
      assert.deepEqual(
        page.messages.map((m: any) => [m.id, m.deleted ?? false, m.text]),
        [
          [first, false, 'hello'],
          [spam, true, undefined],
          [last, false, 'anyway'],
        ],
      );
      for (const client of [owner.client, bob.client, back.client, earlier.client]) client.close();
    });

    test('clear errors: a bad id, a bad room, no such message, no such room, bad pages', async () => {
      const room = `errors_${engine}`;
      const owner = await connectV1(people.wsUrl, room, { name: 'Olga' });
      const kept = await postV1(owner.client, 'kept');

      for (const id of ['nope', '01-0', '1-1-1', '99999999999999999999999-0']) {
        const res = await deleteMessage(app, room, id);
        assert.equal(res.status, 400, id);
        assert.equal((await json(res)).error, 'bad_request');
      }
      const badRoom = await deleteMessage(app, 'not a room!', kept);
      assert.equal(badRoom.status, 400);
      assert.equal((await json(badRoom)).error, 'invalid_room');

      const noMessage = await deleteMessage(app, room, '1-0');
      assert.equal(noMessage.status, 404);
      const noMessageBody = await json(noMessage);
      assert.equal(noMessageBody.error, 'not_found');
      assert.match(noMessageBody.message, /No such message in this room/);

      const noRoom = await deleteMessage(app, `nobody_here_${engine}`, kept);
      assert.equal(noRoom.status, 404);
      const noRoomBody = await json(noRoom);
      assert.equal(noRoomBody.error, 'not_found');
      assert.match(noRoomBody.message, /This room has no messages/);

      for (const query of ['?limit=0', '?limit=101', '?limit=x', '?before=yesterday']) {
        const res = await admin(app, `/api/admin/rooms/${room}/messages${query}`);
        assert.equal(res.status, 400, query);
        assert.equal((await json(res)).error, 'bad_request');
      }
      // Nothing refused touched the message.
      const page = await json(await admin(app, `/api/admin/rooms/${room}/messages`));
      assert.deepEqual(
        page.messages.map((m: any) => [m.id, m.text]),
        [[kept, 'kept']],
      );
      owner.client.close();
    });

    test('an invite made by the operator lets a newcomer into an invite-only room, for good', async () => {
      const room = `closed_${engine}`;
      const owner = await connectV1(people.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'mine');
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true })).type, 'ack');
      const refused = await enter(people.wsUrl, room, '');
      assert.equal(refused.first.code, 'invite_required');
      assert.equal((await refused.client.waitClose()).code, CLOSE_CODES.removed);

      const res = await makeInvite(app, room, { expiresInSeconds: 600 });
      assert.equal(res.status, 201);
      const made = await json(res);
      assert.deepEqual(Object.keys(made).sort(), ['expiresTs', 'invite', 'url']);
      assert.ok(made.expiresTs > Date.now() + 590_000 && made.expiresTs <= Date.now() + 600_000);
      // No Origin (a script): the link points at the server the request reached, as the web app's room page.
      assert.equal(made.url, `${app.httpUrl}/chat/${room}/?invite=${encodeURIComponent(made.invite)}`);

      const invite = new URL(made.url).searchParams.get('invite');
      const { client: nina, first } = await enter(people.wsUrl, room, `&invite=${encodeURIComponent(invite!)}`);
      assert.equal(first.type, 'welcome');
      nina.close();
      const ninaBack = await connectV1(people.wsUrl, room, { name: 'Nina', token: first.token });
      assert.equal(ninaBack.welcome.type, 'welcome', 'let in for good: no invite needed again');

      // It opens that room only.
      const closedToo = `closed_too_${engine}`;
      const other = await connectV1(people.wsUrl, closedToo, { name: 'Olga' });
      await postV1(other.client, 'mine too');
      assert.equal((await requestV1(other.client, { type: 'settings', inviteOnly: true })).type, 'ack');
      const elsewhere = await enter(people.wsUrl, closedToo, `&invite=${encodeURIComponent(made.invite)}`);
      assert.equal(elsewhere.first.code, 'invite_required');
      for (const client of [owner.client, ninaBack.client, other.client, elsewhere.client]) client.close();
    });

    test('invites: a day by default, bounded like the socket’s, linked to the asking page when the server takes it', async () => {
      const room = `linked_${engine}`;
      const noBody = await makeInvite(app, room);
      assert.equal(noBody.status, 201);
      const { expiresTs } = await json(noBody);
      assert.ok(Math.abs(expiresTs - (Date.now() + 24 * 3600_000)) < 60_000, 'a day');

      for (const body of [{ expiresInSeconds: 59 }, { expiresInSeconds: 31 * 24 * 3600 }, { expiresInSeconds: 1.5 }]) {
        const res = await makeInvite(app, room, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal((await json(res)).error, 'bad_request');
      }
      const badRoom = await makeInvite(app, 'no such name!');
      assert.equal(badRoom.status, 400);
      assert.equal((await json(badRoom)).error, 'invalid_room');

      // The /admin page served by this server: its origin. A page the server does not take
      // pages from: the server's own origin instead.
      const own = await json(await makeInvite(app, room, {}, { origin: app.httpUrl }));
      assert.ok(own.url.startsWith(`${app.httpUrl}/chat/${room}/?invite=`), own.url);
      const stranger = await json(await makeInvite(app, room, {}, { origin: 'https://elsewhere.example' }));
      assert.ok(stranger.url.startsWith(`${app.httpUrl}/chat/`), stranger.url);
    });
  });
}
