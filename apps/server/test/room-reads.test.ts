import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { CLOSE_CODES, tokenProtocol } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { nextId } from './helpers/moderation.ts';
import { nextOfType, postV1, requestV1, TestClient } from './helpers/ws-client.ts';

/**
 * The HTTP reads of a room (`GET /api/rooms/<room>/messages` and `/members`) let in whom the
 * room's WebSocket lets in (issue "Rooms people can protect"): a banned id or address gets 403
 * `banned`, an invite-only room is read only with the identity token of someone it let in (or its
 * owner's, a moderator's, the operator's), and public rooms stay open without a token. Every
 * client here is behind a "proxy" (the test) that names its address in X-Forwarded-For, which
 * the app believes (TRUST_PROXY=1): IPv6 addresses, grouped by /64 for bans, over loopback.
 */

const ADMIN_TOKEN = 'operator-token-for-the-room-read-tests-0123';

/** For fresh room names. */
let counter = 0;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Read {
  status: number;
  body: any;
}

/** A GET of the HTTP API from an address, with an Authorization header when given. */
function get(app: RunningApp, path: string, options: { from: string; authorization?: string }): Promise<Read> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${app.httpUrl}${path}`,
      {
        headers: {
          'x-forwarded-for': options.from,
          ...(options.authorization !== undefined ? { authorization: options.authorization } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A room's latest messages and its first page of people, as the reader is let see them. */
function readRoom(app: RunningApp, room: string, from: string, token?: string) {
  const options = { from, ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}) };
  return Promise.all([
    get(app, `/api/rooms/${room}/messages?limit=50`, options),
    get(app, `/api/rooms/${room}/members`, options),
  ]);
}

/** Expects both reads refused with `code` (403), in the API's error shape. */
function assertRefused(reads: Read[], code: string, what: string): void {
  for (const read of reads) {
    assert.equal(read.status, 403, `${what}: ${JSON.stringify(read.body)}`);
    assert.equal(read.body.error, code, what);
    assert.equal(typeof read.body.message, 'string', what);
  }
}

/** Expects both reads answered, the history holding `text`. */
function assertRead([messages, members]: Read[], text: string, what: string): void {
  assert.equal(messages!.status, 200, `${what}: ${JSON.stringify(messages!.body)}`);
  assert.ok(
    messages!.body.messages.some((m: any) => m.text === text),
    `${what}: the history holds "${text}"`,
  );
  assert.equal(members!.status, 200, `${what}: ${JSON.stringify(members!.body)}`);
  assert.equal(typeof members!.body.memberCount, 'number', what);
}

/** A `parley.v1` connection from an address (X-Forwarded-For), with a token when given, and its first frame. */
async function enterFrom(
  app: RunningApp,
  room: string,
  from: string,
  options: { name: string; token?: string; invite?: string },
): Promise<{ client: TestClient; first: any }> {
  const query = new URLSearchParams({ name: options.name });
  if (options.invite !== undefined) query.set('invite', options.invite);
  const protocols = ['parley.v1', ...(options.token !== undefined ? [tokenProtocol(options.token)] : [])];
  const client = await TestClient.connect(`${app.wsUrl}/ws/chat/${encodeURIComponent(room)}/?${query}`, {
    protocols,
    forwardedFor: from,
  });
  return { client, first: await client.next() };
}

/** Enters and expects a welcome. */
async function welcomed(
  app: RunningApp,
  room: string,
  from: string,
  options: { name: string; token?: string; invite?: string },
) {
  const { client, first } = await enterFrom(app, room, from, options);
  assert.equal(first.type, 'welcome', `${options.name}: ${JSON.stringify(first)}`);
  return { client, welcome: first };
}

/** A fresh identity's token: the welcome of another (public) room gives one. */
async function freshToken(app: RunningApp, from: string): Promise<string> {
  const { client, welcome } = await welcomed(app, `elsewhere_${counter++}`, from, { name: 'Newcomer' });
  client.close();
  return welcome.token;
}

/** Sends a `moderate` frame and expects its ack. */
async function moderate(client: TestClient, action: string, userId: string, extra: Record<string, unknown> = {}) {
  const answer = await requestV1(client, { type: 'moderate', action, userId, ...extra }, nextId());
  assert.equal(answer.type, 'ack', JSON.stringify(answer));
  return answer;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`HTTP reads of a room follow its bans and invites (${engine} engine)`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url, TRUST_PROXY: '1', ADMIN_TOKEN });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('a public room is read without a token, and with one', async () => {
      const room = `open_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:10::1', { name: 'Olga' });
      await postV1(owner.client, 'open to all');
      assertRead(await readRoom(app, room, '2001:db8:11::1'), 'open to all', 'anonymous');
      assertRead(await readRoom(app, room, '2001:db8:11::1', owner.welcome.token), 'open to all', 'the owner');
      const [, members] = await readRoom(app, room, '2001:db8:11::1');
      assert.deepEqual(
        members!.body.members.map((m: any) => m.name),
        ['Olga'],
      );
      owner.client.close();
    });

    test('banned: by id from any address, by address (its /64) with a fresh identity or none; unban lifts both', async () => {
      const room = `banned_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:20::1', { name: 'Olga' });
      await postV1(owner.client, 'before the ban');
      const carl = await welcomed(app, room, '2001:db8:1:2::7', { name: 'Carl' });
      // Carl reads like anyone until the ban.
      assertRead(
        await readRoom(app, room, '2001:db8:1:2::7', carl.welcome.token),
        'before the ban',
        'Carl, not banned',
      );
      const ack = await moderate(owner.client, 'ban', carl.welcome.you.id, { durationSeconds: 3600 });
      const ban = await nextOfType(owner.client, 'moderation');
      assert.equal(ban.eventId, ack.id);
      assert.equal((await nextOfType(carl.client, 'error')).code, 'banned');
      assert.equal((await carl.client.waitClose()).code, CLOSE_CODES.removed);

      // By id: Carl's token from an address nobody banned.
      const byId = await readRoom(app, room, '2001:db8:30::5', carl.welcome.token);
      assertRefused(byId, 'banned', 'Carl by id');
      for (const read of byId) assert.equal(read.body.until, ban.until, 'until, as the socket error has it');
      // ...while anyone else from that address reads on.
      assertRead(await readRoom(app, room, '2001:db8:30::5'), 'before the ban', 'a stranger on another address');

      // By address: a fresh identity, and no identity, from Carl's /64 (the address ban is written
      // just after the ban by the instance of Carl's socket: give it a moment).
      const fresh = await freshToken(app, '2001:db8:1:2::99');
      let fromAddress: Read[] = [];
      for (let attempt = 0; attempt < 20; attempt++) {
        fromAddress = await readRoom(app, room, '2001:db8:1:2::99', fresh);
        if (fromAddress.every((read) => read.status === 403)) break;
        await sleep(50);
      }
      assertRefused(fromAddress, 'banned', 'a fresh identity from the /64');
      assert.equal(fromAddress[0]!.body.until, ban.until);
      assertRefused(await readRoom(app, room, '2001:0DB8:1:2:ffff::1'), 'banned', 'no identity from the /64');
      // The neighbouring /64 reads; so do the owner and moderators from the banned one.
      assertRead(await readRoom(app, room, '2001:db8:1:3::99'), 'before the ban', 'the next /64');
      assertRead(
        await readRoom(app, room, '2001:db8:1:2::1', owner.welcome.token),
        'before the ban',
        'the owner on the banned address',
      );

      await moderate(owner.client, 'unban', carl.welcome.you.id);
      assertRead(await readRoom(app, room, '2001:db8:1:2::7', carl.welcome.token), 'before the ban', 'Carl unbanned');
      assertRead(await readRoom(app, room, '2001:db8:1:2::99', fresh), 'before the ban', 'the /64 unbanned');
      owner.client.close();
    });

    test('a ban until lifted has no until', async () => {
      const room = `banned_for_good_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:21::1', { name: 'Olga' });
      await postV1(owner.client, 'hello');
      const carl = await welcomed(app, room, '2001:db8:22::1', { name: 'Carl' });
      await moderate(owner.client, 'ban', carl.welcome.you.id);
      await carl.client.waitClose();
      const reads = await readRoom(app, room, '2001:db8:23::1', carl.welcome.token);
      assertRefused(reads, 'banned', 'banned for good');
      for (const read of reads) assert.deepEqual(Object.keys(read.body).sort(), ['error', 'message']);
      owner.client.close();
    });

    test('invite-only: read with the token of someone let in, the owner’s, a moderator’s or the operator’s; refused to others', async () => {
      const room = `invited_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:40::1', { name: 'Olga' });
      await postV1(owner.client, 'members only');
      const bob = await welcomed(app, room, '2001:db8:41::1', { name: 'Bob' });
      await moderate(owner.client, 'promote', bob.welcome.you.id);
      bob.client.close();
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true }, nextId())).type, 'ack');
      const reader = '2001:db8:42::1';

      // Nobody in particular, and a person the room never let in: invite_required.
      assertRefused(await readRoom(app, room, reader), 'invite_required', 'anonymous');
      const stranger = await freshToken(app, reader);
      assertRefused(await readRoom(app, room, reader, stranger), 'invite_required', 'a person never let in');
      // The token is read from the Authorization header only, never from the URL.
      const inUrl = await get(app, `/api/rooms/${room}/messages?token=${encodeURIComponent(owner.welcome.token)}`, {
        from: reader,
      });
      assert.deepEqual([inUrl.status, inUrl.body.error], [403, 'invite_required'], 'a token in the URL is not read');

      // Nina comes in once with an invite: let in for good, and so she reads.
      const clientMsgId = nextId();
      owner.client.send({ type: 'invite', expiresInSeconds: 600, clientMsgId });
      const invite = await nextOfType(owner.client, 'invite');
      const ninaToken = await freshToken(app, reader);
      assertRefused(await readRoom(app, room, reader, ninaToken), 'invite_required', 'Nina before her invite');
      const nina = await welcomed(app, room, reader, { name: 'Nina', token: ninaToken, invite: invite.invite });
      nina.client.close();
      assertRead(await readRoom(app, room, reader, nina.welcome.token), 'members only', 'Nina, let in');
      assertRead(await readRoom(app, room, reader, ninaToken), 'members only', 'Nina, with her token from before');

      assertRead(await readRoom(app, room, reader, owner.welcome.token), 'members only', 'the owner');
      assertRead(await readRoom(app, room, reader, bob.welcome.token), 'members only', 'a moderator');
      assertRead(await readRoom(app, room, reader, ADMIN_TOKEN), 'members only', 'the operator');

      // Open again: anyone reads.
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: false }, nextId())).type, 'ack');
      assertRead(await readRoom(app, room, reader), 'members only', 'anonymous, the room open again');
      owner.client.close();
    });

    test('a token that is none of identity, bot key or ADMIN_TOKEN is 401; a bot key reads as its bot; neither posts as the other', async () => {
      const room = `tokens_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:50::1', { name: 'Olga' });
      await postV1(owner.client, 'hello');
      const from = '2001:db8:51::1';
      const made = await fetch(`${app.httpUrl}/api/admin/bots`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Reader Bot' }),
      });
      assert.equal(made.status, 201);
      const { key, bot } = (await made.json()) as { key: string; bot: { id: string } };

      const expired = (await app.app.identity.issue(undefined, Date.now() - 31 * 24 * 3600 * 1000)).token;
      for (const token of ['not-a-token', expired, `${bot.id}.wrong-secret`, 'bot_nobody.secret']) {
        for (const read of await readRoom(app, room, from, token)) {
          assert.deepEqual([read.status, read.body.error], [401, 'unauthorized'], token);
        }
      }
      // Another scheme than Bearer is not read (a proxy's Basic, say): anonymous.
      const basic = await get(app, `/api/rooms/${room}/messages`, { from, authorization: 'Basic dXNlcjpwYXNz' });
      assert.equal(basic.status, 200);

      // The bot's key reads a public room as the bot; once the room is invite-only, not (it was never let in).
      assertRead(await readRoom(app, room, from, key), 'hello', 'the bot');
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true }, nextId())).type, 'ack');
      assertRefused(await readRoom(app, room, from, key), 'invite_required', 'the bot, not let in');

      // A person's identity token does not post as a bot.
      const post = await fetch(`${app.httpUrl}/api/rooms/${room}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${owner.welcome.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text: 'as a bot?' }),
      });
      assert.equal(post.status, 401);
      owner.client.close();
    });

    test('the operator’s instance-wide address ban keeps the address from reading any room', async () => {
      const room = `serverban_${engine}`;
      const owner = await welcomed(app, room, '2001:db8:60::1', { name: 'Olga' });
      await postV1(owner.client, 'hello');
      const banned = await fetch(`${app.httpUrl}/api/admin/bans`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ address: '2001:db8:61::1', durationSeconds: 600 }),
      });
      assert.equal(banned.status, 201);
      const ban = (await banned.json()) as { key: string; until: number };
      const reads = await readRoom(app, room, '2001:db8:61::abcd');
      assertRefused(reads, 'banned', 'the banned /64');
      for (const read of reads) assert.deepEqual([read.body.until, read.body.scope], [ban.until, 'server']);
      assertRead(await readRoom(app, room, '2001:db8:62::1'), 'hello', 'another address');
      const lifted = await fetch(`${app.httpUrl}/api/admin/bans/${encodeURIComponent(ban.key)}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.equal(lifted.status, 204);
      assertRead(await readRoom(app, room, '2001:db8:61::abcd'), 'hello', 'the ban lifted');
      owner.client.close();
    });
  });
}
