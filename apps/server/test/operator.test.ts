import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, json, nextOfType, postV1, requestV1, TestClient } from './helpers/ws-client.ts';

/**
 * The operator (ADMIN_TOKEN): the admin API's rooms (unlisted ones too), instances and
 * instance-wide bans, on both engines; on Redis, with two instances sharing the bans.
 */

const ADMIN_TOKEN = 'operator-token-for-the-tests-0123456789';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };

const admin = (app: RunningApp, path: string, init: RequestInit = {}) =>
  fetch(`${app.httpUrl}${path}`, {
    ...init,
    headers: { ...auth, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
  });

const ban = (app: RunningApp, body: Record<string, unknown>) =>
  admin(app, '/api/admin/bans', { method: 'POST', body: JSON.stringify(body) });

/** Connects a v1 client and returns the first frame and how the socket closed (for refusals). */
async function refusedEntry(wsUrl: string, room: string, options: { token?: string; localAddress?: string } = {}) {
  const protocols = ['parley.v1'];
  if (options.token !== undefined) protocols.push(`parley.token.${options.token}`);
  const client = await TestClient.connect(`${wsUrl}/ws/chat/${room}/?name=Again`, {
    protocols,
    ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
  });
  const frame = await client.next();
  if (frame.type === 'welcome') {
    client.close();
    return { frame, code: undefined };
  }
  return { frame, code: (await client.waitClose()).code };
}

/** Waits (at most `ms`) for a socket to be closed by the server. */
async function closedWithin(client: TestClient, ms: number) {
  return Promise.race([
    client.waitClose(),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms)),
  ]);
}

describe('the operator API without ADMIN_TOKEN', () => {
  test('does not exist: every admin path is a 404, whatever the token', async (t) => {
    const app = await startApp(t);
    for (const path of ['/api/admin/rooms', '/api/admin/instances', '/api/admin/bans']) {
      const res = await admin(app, path);
      assert.equal(res.status, 404, path);
    }
  });

  test('a short ADMIN_TOKEN is refused at start-up', async () => {
    await assert.rejects(startApp(undefined, { ADMIN_TOKEN: 'too-short' }), /ADMIN_TOKEN must be at least 24/);
  });
});

for (const engine of ['memory', 'redis'] as const) {
  describe(`the operator over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    /** A second instance on the same Redis (Redis engine only). */
    let other: RunningApp | undefined;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      const env = { REDIS_URL: redis?.url, ADMIN_TOKEN, MAX_INSTANCE_BANS: '5' };
      app = await startApp(undefined, env);
      if (engine === 'redis') other = await startApp(undefined, env);
    });
    after(async () => {
      await app.app.close();
      await other?.app.close();
      await redis?.stop();
    });

    test('every admin path needs the token: none or a wrong one is a 401', async () => {
      const attempts: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong-token-wrong-token-wrong' },
        { authorization: ADMIN_TOKEN },
      ];
      for (const headers of attempts) {
        const res = await fetch(`${app.httpUrl}/api/admin/rooms`, { headers });
        assert.equal(res.status, 401);
        assert.equal((await json(res)).error, 'unauthorized');
      }
      const res = await fetch(`${app.httpUrl}/api/admin/bans`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'someone' }),
      });
      assert.equal(res.status, 401, 'nothing is done without the token');
      assert.equal((await json(await admin(app, '/api/admin/bans'))).bans.length, 0);
    });

    test('the room list shows unlisted rooms (which /api/rooms never does) with people, messages, owner and settings', async () => {
      const room = `secret_${engine}`;
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'one');
      await postV1(owner.client, 'two');
      const answer = await requestV1(owner.client, { type: 'settings', unlisted: true });
      assert.equal(answer.type, 'ack');
      const guest = await connectV1((other ?? app).wsUrl, room, { name: 'Guest' });

      // (The public list is cached for about a second.)
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const publicList = await json(await fetch(`${app.httpUrl}/api/rooms`));
      assert.ok(!publicList.rooms.some((r: any) => r.room === room), 'unlisted: not in the public list');

      const { rooms } = await json(await admin(app, '/api/admin/rooms'));
      const listed = rooms.find((r: any) => r.room === room);
      assert.ok(listed, 'the operator sees the unlisted room');
      assert.equal(listed.members, 2);
      assert.equal(listed.messages, 2);
      assert.equal(listed.owner, owner.welcome.you.id);
      assert.equal(listed.settings.unlisted, true);
      owner.client.close();
      guest.client.close();
    });

    test('instances: each instance reports its connections', async () => {
      const room = `count_${engine}`;
      const clients = await Promise.all([1, 2, 3].map((i) => connectV1(app.wsUrl, room, { name: `P${i}` })));
      const { instances } = await json(await admin(app, '/api/admin/instances'));
      assert.equal(instances.length, engine === 'redis' ? 2 : 1, 'one line per live instance');
      const mine = instances.find((i: any) => i.connections.v1 >= 3);
      assert.ok(mine, `an instance holds the 3 sockets: ${JSON.stringify(instances)}`);
      assert.ok(mine.rooms >= 1);
      for (const { client } of clients) client.close();
    });

    test('a ban by user id closes the person everywhere and keeps them out; lifting it lets them back', async () => {
      const room = `banned_${engine}`;
      const target = await connectV1((other ?? app).wsUrl, room, { name: 'Troll' });
      const neighbour = await connectV1(app.wsUrl, room, { name: 'Nice' });
      const res = await ban(app, { userId: target.welcome.you.id, reason: 'spam everywhere', durationSeconds: 3600 });
      assert.equal(res.status, 201);
      const made = await json(res);
      assert.equal(made.key, `u:${target.welcome.you.id}`);
      assert.ok(made.until > Date.now());

      // The banned person's socket, on the other instance, is closed within the refresh period.
      let error: any;
      for (let i = 0; i < 50 && error === undefined; i++) {
        const frame = await target.client.next(5000);
        if (frame.type === 'error') error = frame;
      }
      assert.equal(error?.code, 'banned');
      assert.match(error.message, /operator/);
      assert.equal(error.scope, 'server', 'the whole server, not this room');
      assert.equal((await closedWithin(target.client, 5000))?.code, CLOSE_CODES.removed);
      await postV1(neighbour.client, 'still here', undefined);

      // Coming back with the same token: refused at once, on every instance.
      for (const instance of [app, other ?? app]) {
        const again = await refusedEntry(instance.wsUrl, room, { token: target.welcome.token });
        assert.equal(again.frame.code, 'banned');
        assert.equal(again.code, CLOSE_CODES.removed);
      }
      const listed = await json(await admin(app, '/api/admin/bans'));
      assert.deepEqual(
        listed.bans.map((b: any) => [b.key, b.reason]),
        [[made.key, 'spam everywhere']],
      );

      const lifted = await admin(app, `/api/admin/bans/${encodeURIComponent(made.key)}`, { method: 'DELETE' });
      assert.equal(lifted.status, 204);
      assert.equal(
        (await admin(app, `/api/admin/bans/${encodeURIComponent(made.key)}`, { method: 'DELETE' })).status,
        404,
      );
      // The other instance learns of it within its refresh period.
      let back: Awaited<ReturnType<typeof refusedEntry>> | undefined;
      for (let i = 0; i < 40; i++) {
        back = await refusedEntry((other ?? app).wsUrl, room, { token: target.welcome.token });
        if (back.frame.type === 'welcome') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(back?.frame.type, 'welcome');
      neighbour.client.close();
    });

    test('a ban by address keeps out every identity from it, and nobody else', async () => {
      const room = `address_${engine}`;
      const from = '127.0.0.7';
      const res = await ban(app, { address: from });
      assert.equal(res.status, 201);
      const made = await json(res);
      assert.equal(made.until, 0, 'no duration: until lifted');
      for (const instance of [app, other ?? app]) {
        let refused: Awaited<ReturnType<typeof refusedEntry>> | undefined;
        for (let i = 0; i < 40; i++) {
          refused = await refusedEntry(instance.wsUrl, room, { localAddress: from });
          if (refused.frame.type !== 'welcome') break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        assert.equal(refused?.frame.code, 'banned', 'a fresh identity from the banned address');
        assert.equal(refused?.code, CLOSE_CODES.removed);
      }
      const elsewhere = await connectV1(app.wsUrl, room, { name: 'Fine', localAddress: '127.0.0.8' });
      elsewhere.client.close();
      await admin(app, `/api/admin/bans/${encodeURIComponent(made.key)}`, { method: 'DELETE' });
    });

    test('the operator moderates in any room: kicks someone present, bans someone absent, appoints an owner', async () => {
      const room = `operated_${engine}`;
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'mine');
      const bob = await connectV1((other ?? app).wsUrl, room, { name: 'Bob' });
      await postV1(bob.client, 'hello');
      const moderate = (body: Record<string, unknown>) =>
        admin(app, `/api/admin/rooms/${room}/moderate`, {
          method: 'POST',
          body: JSON.stringify({ clientMsgId: `op${Math.random().toString(36).slice(2)}`, ...body }),
        });

      // Kicking the owner: the operator is above every role.
      const kicked = await moderate({ action: 'kick', userId: owner.welcome.you.id, reason: 'cool down' });
      assert.equal(kicked.status, 200);
      assert.match((await json(kicked)).eventId, /^\d+-\d+$/);
      const news = await nextOfType(bob.client, 'moderation', 5000);
      assert.equal(news.action, 'kick');
      assert.deepEqual(news.by, { id: 'operator', name: 'Operator' });
      assert.equal(news.reason, 'cool down');
      assert.equal((await closedWithin(owner.client, 5000))?.code, CLOSE_CODES.removed);

      // Kicking someone absent: nothing to kick.
      const absent = await moderate({ action: 'kick', userId: owner.welcome.you.id });
      assert.equal(absent.status, 409);
      assert.equal((await json(absent)).error, 'not_present');

      // Banning someone absent works (a moderator could not), and keeps them out.
      assert.equal((await moderate({ action: 'ban', userId: owner.welcome.you.id, durationSeconds: 600 })).status, 200);
      const refused = await refusedEntry(app.wsUrl, room, { token: owner.welcome.token });
      assert.equal(refused.frame.code, 'banned');

      // Appointing an owner: Bob, even after he left; Olga stays a moderator.
      bob.client.close();
      assert.equal((await moderate({ action: 'transfer', userId: bob.welcome.you.id })).status, 200);
      const back = await connectV1(app.wsUrl, room, { name: 'Bob', token: bob.welcome.token });
      assert.equal(back.welcome.you.role, 'owner');
      assert.deepEqual(back.welcome.roles, { owner: bob.welcome.you.id, moderators: [owner.welcome.you.id] });

      // Bad requests: a broken body, a bad room name, an action on the operator itself.
      assert.equal((await moderate({ action: 'explode', userId: 'x' })).status, 400);
      const badRoom = await admin(app, '/api/admin/rooms/no%20spaces%20here!/moderate', {
        method: 'POST',
        body: JSON.stringify({ action: 'kick', userId: 'x', clientMsgId: 'a' }),
      });
      assert.equal(badRoom.status, 400);
      assert.equal((await json(badRoom)).error, 'invalid_room');
      assert.equal((await moderate({ action: 'ban', userId: 'operator' })).status, 403);
      back.client.close();
    });

    test('purging a whole room deletes every retained message for everyone; only the operator may do it', async () => {
      const room = `purged_${engine}`;
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      const bob = await connectV1((other ?? app).wsUrl, room, { name: 'Bob' });
      for (let i = 0; i < 3; i++) await postV1(owner.client, `olga ${i}`);
      for (let i = 0; i < 2; i++) await postV1(bob.client, `bob ${i}`);

      // The owner (a moderator's top) may not purge everyone over the socket.
      const refused = await requestV1(owner.client, { type: 'moderate', action: 'purge', userId: '*' });
      assert.equal(refused.type, 'error');
      assert.equal(refused.code, 'forbidden');

      const res = await admin(app, `/api/admin/rooms/${room}/purge`, { method: 'POST', body: '{}' });
      assert.equal(res.status, 200);
      const result = await json(res);
      assert.equal(result.count, 5);
      // Bob's socket (another instance on Redis) sees five deletions, then the purge of everyone.
      const deleted = new Set<string>();
      let purge: any;
      for (let i = 0; i < 40 && purge === undefined; i++) {
        const frame = await bob.client.next(5000);
        if (frame.type === 'delete') deleted.add(frame.id);
        if (frame.type === 'moderation' && frame.action === 'purge') purge = frame;
      }
      assert.equal(deleted.size, 5);
      assert.deepEqual(purge.user, { id: '*', name: 'everyone' });
      assert.equal(purge.count, 5);
      const page = await json(await fetch(`${app.httpUrl}/api/rooms/${room}/messages`));
      assert.equal(page.messages.length, 5);
      assert.ok(
        page.messages.every((m: any) => m.deleted === true && m.text === undefined),
        'all deleted',
      );
      const { rooms } = await json(await admin(app, '/api/admin/rooms'));
      assert.equal(rooms.find((r: any) => r.room === room)?.messages, 0);
      owner.client.close();
      bob.client.close();
    });

    test('bans are checked: bad bodies are 400s, and past MAX_INSTANCE_BANS a clear 409', async () => {
      for (const body of [
        {},
        { userId: 'a', address: '127.0.0.1' },
        { address: 'not-an-ip' },
        { userId: 'a', durationSeconds: 0 },
      ]) {
        const res = await ban(app, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal((await json(res)).error, 'bad_request');
      }
      const keys: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await ban(app, { userId: `cap_${engine}_${i}` });
        assert.equal(res.status, 201);
        keys.push((await json(res)).key);
      }
      const refused = await ban(app, { userId: `cap_${engine}_5` });
      assert.equal(refused.status, 409);
      assert.equal((await json(refused)).error, 'too_many_bans');
      // Replacing a ban that exists is fine at the cap.
      assert.equal((await ban(app, { userId: `cap_${engine}_0`, reason: 'again' })).status, 201);
      for (const key of keys) await admin(app, `/api/admin/bans/${encodeURIComponent(key)}`, { method: 'DELETE' });
      assert.equal((await json(await admin(app, '/api/admin/bans'))).bans.length, 0);
    });
  });
}
