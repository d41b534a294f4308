import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, json, nextOfType, postV1, requestV1 } from './helpers/ws-client.ts';

/**
 * Bots (issue "Parley as a platform"): the operator makes a bot and gets its key once; the bot
 * posts over HTTP through the sockets' path (one order, deduplicated by Idempotency-Key,
 * moderated, rate-limited) and its messages say `bot: true`. Both engines; on Redis, the bot
 * posts through one instance and a person on the other sees it.
 */

const ADMIN_TOKEN = 'operator-token-for-the-bot-tests-012345';
const operatorAuth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const operator = { ...operatorAuth, 'content-type': 'application/json' };

async function makeBot(app: RunningApp, name: string): Promise<{ id: string; key: string }> {
  const res = await fetch(`${app.httpUrl}/api/admin/bots`, {
    method: 'POST',
    headers: operator,
    body: JSON.stringify({ name }),
  });
  assert.equal(res.status, 201);
  const { bot, key } = await json(res);
  return { id: bot.id, key };
}

function post(
  app: RunningApp,
  room: string,
  key: string | undefined,
  body: Record<string, unknown>,
  idempotencyKey?: string,
) {
  return fetch(`${app.httpUrl}/api/rooms/${room}/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}),
      ...(idempotencyKey !== undefined ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body: JSON.stringify(body),
  });
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`bots over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    let other: RunningApp | undefined;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      const env = {
        REDIS_URL: redis?.url,
        ADMIN_TOKEN,
        MAX_BOTS: '3',
        RATE_LIMIT_PER_CONNECTION: '5',
        RATE_BURST_PER_CONNECTION: '5',
      };
      app = await startApp(undefined, env);
      if (engine === 'redis') other = await startApp(undefined, env);
    });
    after(async () => {
      await app.app.close();
      await other?.app.close();
      await redis?.stop();
    });

    test('the operator makes bots (the key shown once), lists them, and past MAX_BOTS is refused', async () => {
      const made = await makeBot(app, 'Lister');
      assert.match(made.id, /^bot_/);
      assert.ok(made.key.startsWith(`${made.id}.`));
      const { bots } = await json(await fetch(`${app.httpUrl}/api/admin/bots`, { headers: operatorAuth }));
      const listed = bots.find((b: any) => b.id === made.id);
      assert.deepEqual(Object.keys(listed).sort(), ['createdAt', 'id', 'name'], 'never the key or its hash');
      assert.equal((await fetch(`${app.httpUrl}/api/admin/bots`)).status, 401, 'the operator only');
      const bad = await fetch(`${app.httpUrl}/api/admin/bots`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: '   ' }),
      });
      assert.equal(bad.status, 400);
      // MAX_BOTS is 3 here: two more fit, the next is refused.
      const more = [await makeBot(app, 'Two'), await makeBot(app, 'Three')];
      const full = await fetch(`${app.httpUrl}/api/admin/bots`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: 'Four' }),
      });
      assert.equal(full.status, 409);
      assert.equal((await json(full)).error, 'too_many_bots');
      for (const bot of [made, ...more]) {
        const gone = await fetch(`${app.httpUrl}/api/admin/bots/${bot.id}`, {
          method: 'DELETE',
          headers: operatorAuth,
        });
        assert.equal(gone.status, 204);
      }
    });

    test('a bot posts: one order with the sockets, user.bot, deduplicated by Idempotency-Key', async () => {
      const room = `botroom_${engine}`;
      const bot = await makeBot(app, 'Deploy Bot');
      const alice = await connectV1((other ?? app).wsUrl, room, { name: 'Alice' });
      const first = await postV1(alice.client, 'before the bot');

      const res = await post(app, room, bot.key, { text: 'Deploy finished ✅', replyTo: first }, 'deploy-42');
      assert.equal(res.status, 201);
      const { id } = await json(res);
      // (Alice's own message may still be on its way to her before it.)
      let seen = await nextOfType(alice.client, 'message', 5000);
      if (seen.id === first) seen = await nextOfType(alice.client, 'message', 5000);
      assert.equal(seen.id, id);
      assert.deepEqual(seen.user, { id: bot.id, name: 'Deploy Bot', bot: true });
      assert.equal(seen.replyTo.id, first);
      const after = await postV1(alice.client, 'after the bot');

      // The same key again: the same message, stored once; a different text under it: refused.
      const again = await post(app, room, bot.key, { text: 'Deploy finished ✅', replyTo: first }, 'deploy-42');
      assert.equal(again.status, 200);
      assert.deepEqual(await json(again), { id, duplicate: true });
      const reused = await post(app, room, bot.key, { text: 'Something else' }, 'deploy-42');
      assert.equal(reused.status, 409);
      assert.equal((await json(reused)).error, 'client_msg_id_reused');

      const page = await json(await fetch(`${app.httpUrl}/api/rooms/${room}/messages`));
      assert.deepEqual(
        page.messages.map((m: any) => m.id),
        [first, id, after],
        'one order, the bot’s message once',
      );
      // A bot never owns a room: the room's owner is still the first person who posted.
      const fresh = `botfirst_${engine}`;
      assert.equal((await post(app, fresh, bot.key, { text: 'I am first' })).status, 201);
      const person = await connectV1(app.wsUrl, fresh, { name: 'Pat' });
      assert.equal(person.welcome.roles.owner, undefined);
      await postV1(person.client, 'me next');
      person.client.close();
      const back = await connectV1(app.wsUrl, fresh, { name: 'Pat', token: person.welcome.token });
      assert.equal(back.welcome.you.role, 'owner');
      back.client.close();
      alice.client.close();
    });

    test('keys: none, wrong, malformed or deleted are 401s; bad bodies 400; a long text 413', async () => {
      const room = `botauth_${engine}`;
      const bot = await makeBot(app, 'Auth Bot');
      for (const key of [undefined, 'nonsense', `${bot.id}.wrong-secret`, `${bot.key}x`]) {
        const res = await post(app, room, key, { text: 'hi' });
        assert.equal(res.status, 401, String(key));
        assert.equal((await json(res)).error, 'unauthorized');
      }
      assert.equal((await post(app, room, bot.key, { nope: 1 })).status, 400);
      assert.equal((await post(app, room, bot.key, { text: '\u200b' })).status, 400, 'invisible-only text');
      assert.equal((await post(app, room, bot.key, { text: 'hi' }, 'not a key!')).status, 400);
      const long = await post(app, room, bot.key, { text: 'x'.repeat(5000) });
      assert.equal(long.status, 413);
      assert.equal((await json(long)).error, 'too_large');
      await fetch(`${app.httpUrl}/api/admin/bots/${bot.id}`, { method: 'DELETE', headers: operatorAuth });
      const revoked = await post(other ?? app, room, bot.key, { text: 'still here?' });
      assert.equal(revoked.status, 401, 'a deleted bot’s key stops working on every instance');
    });

    test('a body over MAX_PAYLOAD_BYTES is refused before it is read: 413 too_large, nothing posted', async () => {
      const room = `botbody_${engine}`;
      const bot = await makeBot(app, 'Wordy Bot');
      const limit = app.config.maxPayloadBytes;
      // A short text padded with the white space JSON allows after a value, to exactly `bytes`.
      const body = (text: string, bytes: number) => {
        const json = JSON.stringify({ text });
        return json + ' '.repeat(bytes - Buffer.byteLength(json));
      };
      const send = (payload: string) =>
        fetch(`${app.httpUrl}/api/rooms/${room}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bot.key}` },
          body: payload,
        });
      const history = async () => {
        const res = await fetch(`${app.httpUrl}/api/rooms/${room}/messages`);
        return res.status === 200 ? (await json(res)).messages.map((m: any) => m.text) : [];
      };

      const over = await send(body('one byte too many', limit + 1));
      assert.equal(over.status, 413);
      assert.match(over.headers.get('content-type') ?? '', /^application\/json/);
      const refusal = await json(over);
      assert.deepEqual(Object.keys(refusal).sort(), ['error', 'message']);
      assert.equal(refusal.error, 'too_large');
      assert.match(refusal.message, new RegExp(`limit of ${limit} bytes`));
      assert.deepEqual(await history(), [], 'nothing was posted');
      // At the limit exactly, the same post goes through.
      assert.equal((await send(body('just fits', limit))).status, 201);
      assert.deepEqual(await history(), ['just fits']);
      await fetch(`${app.httpUrl}/api/admin/bots/${bot.id}`, { method: 'DELETE', headers: operatorAuth });
    });

    test('limits and moderation apply: a socket’s rate, a mute, a ban by the operator', async () => {
      const room = `botlimits_${engine}`;
      const bot = await makeBot(app, 'Noisy Bot');
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'my room');
      // RATE_LIMIT_PER_CONNECTION 5, burst 5: the sixth post in a row is refused.
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await post(app, room, bot.key, { text: `tick ${i}` })).status);
      assert.deepEqual(statuses, [201, 201, 201, 201, 201, 429]);
      await new Promise((resolve) => setTimeout(resolve, 1100));

      // The owner mutes the bot (it has posted: the room knows it), then the operator bans it.
      const muted = await requestV1(owner.client, { type: 'moderate', action: 'mute', userId: bot.id });
      // A bot is never present, so a moderator cannot mute it (mute needs presence); the operator can.
      assert.equal(muted.code, 'not_present');
      const ban = await fetch(`${app.httpUrl}/api/admin/rooms/${room}/moderate`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ action: 'ban', userId: bot.id, durationSeconds: 600, clientMsgId: 'banbot1' }),
      });
      assert.equal(ban.status, 200);
      const refused = await post(app, room, bot.key, { text: 'let me in' });
      assert.equal(refused.status, 403);
      const body = await json(refused);
      assert.equal(body.error, 'banned');
      assert.match(body.message, /until/);
      // Elsewhere the bot still posts.
      assert.equal((await post(app, `${room}_other`, bot.key, { text: 'elsewhere' })).status, 201);
      owner.client.close();
    });

    test('an invite-only room refuses a bot it never let in, as it would a person: 403 invite_required', async () => {
      const room = `botinvite_${engine}`;
      const bot = await makeBot(app, 'Outsider Bot');
      const owner = await connectV1(app.wsUrl, room, { name: 'Ivy' });
      await postV1(owner.client, 'my room');
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true })).type, 'ack');
      const refused = await post(other ?? app, room, bot.key, { text: 'let me in' });
      assert.equal(refused.status, 403);
      assert.equal((await json(refused)).error, 'invite_required');
      // The owner still posts there, and the bot still posts elsewhere.
      await postV1(owner.client, 'still mine');
      assert.equal((await post(app, `${room}_open`, bot.key, { text: 'elsewhere' })).status, 201);
      owner.client.close();
      await fetch(`${app.httpUrl}/api/admin/bots/${bot.id}`, { method: 'DELETE', headers: operatorAuth });
    });
  });
}
