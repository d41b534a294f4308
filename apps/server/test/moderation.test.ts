import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES, compareMessageIds, MAX_PURGE_MESSAGES, tokenProtocol } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { moderate, nextId } from './helpers/moderation.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, nextOfType, postV1, requestV1, TestClient } from './helpers/ws-client.ts';

/**
 * Rooms people can protect (issue "Rooms people can protect"): owners and moderators, kick, ban,
 * mute and their reversals, on both engines and across two instances. Every action is an entry
 * of the room's log: it reaches everyone, is replayed by a reconnect with `since`, and is
 * enforced by every instance.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A room with an owner (the first to post) and two more people; everyone is connected. */
async function roomOfThree(app: RunningApp, room: string, options: { carlAddress?: string } = {}) {
  const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
  await postV1(owner.client, 'I was here first');
  const bob = await connectV1(app.wsUrl, room, { name: 'Bob' });
  const carl = await connectV1(app.wsUrl, room, {
    name: 'Carl',
    ...(options.carlAddress ? { localAddress: options.carlAddress } : {}),
  });
  return { owner, bob, carl };
}

/**
 * Reads a client's frames until the `moderation` event of a purge, returning it and the ids of
 * the messages deleted after the log entry `after` (older delete events are skipped).
 */
async function purgeSeenBy(client: TestClient, after: string) {
  const deleted: string[] = [];
  for (;;) {
    const frame = await client.next(5000);
    if (frame.type === 'delete' && compareMessageIds(frame.eventId, after) > 0) deleted.push(frame.id);
    if (frame.type === 'moderation' && frame.action === 'purge') return { event: frame, deleted };
  }
}

/** Posts `count` messages at once (acks awaited together) and returns their ids, oldest first. */
async function postMany(client: TestClient, count: number, text: string): Promise<string[]> {
  const ids = Array.from({ length: count }, () => nextId());
  for (const [i, clientMsgId] of ids.entries()) client.send({ type: 'message', text: `${text} ${i}`, clientMsgId });
  const acked = new Map<string, string>();
  while (acked.size < count) {
    const frame = await client.next(10_000);
    if (frame.type === 'error') throw new Error(`${frame.code}: ${frame.message}`);
    if (frame.type === 'ack') acked.set(frame.clientMsgId, frame.id);
  }
  return ids.map((clientMsgId) => acked.get(clientMsgId)!);
}

/** A room's messages by `GET /api/rooms/<room>/messages`, with a query (`after=…`) or the latest page. */
async function page(app: RunningApp, room: string, query = ''): Promise<any> {
  return (await fetch(`${app.httpUrl}/api/rooms/${room}/messages?limit=200${query}`)).json();
}

/**
 * Connects until the server refuses the entry as banned (the address ban is written by the
 * banned person's instance just after the ban: give it a moment), at most 20 tries.
 */
async function bannedEntry(wsUrl: string, room: string, query: string, localAddress: string) {
  let last: { frame: any; code: number } | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    const client = await TestClient.connect(`${wsUrl}/ws/chat/${room}/?${query}`, {
      protocols: ['parley.v1'],
      localAddress,
    });
    const frame = await client.next();
    if (frame.type === 'welcome') {
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    last = { frame, code: (await client.waitClose()).code };
    break;
  }
  return last;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`moderation over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('the first poster owns the room; the welcome says who owns and moderates it; roles survive a reconnect', async () => {
      const room = `roles_${engine}`;
      const first = await connectV1(app.wsUrl, room, { name: 'Olga' });
      assert.equal(first.welcome.you.role, 'member', 'a visit alone owns nothing');
      await postV1(first.client, 'hello');
      const bob = await connectV1(app.wsUrl, room, { name: 'Bob' });
      assert.equal(bob.welcome.you.role, 'member');
      assert.deepEqual(bob.welcome.roles, { owner: first.welcome.you.id, moderators: [] });
      await postV1(bob.client, 'second');

      const ack = await moderate(first.client, 'promote', bob.welcome.you.id);
      assert.equal(ack.type, 'ack');
      for (const client of [first.client, bob.client]) {
        const event = await nextOfType(client, 'moderation');
        assert.equal(event.action, 'promote');
        assert.deepEqual(event.user, { id: bob.welcome.you.id, name: 'Bob' });
        assert.deepEqual(event.by, { id: first.welcome.you.id, name: 'Olga' });
        assert.equal(event.eventId, ack.id);
      }
      bob.client.close();
      const again = await connectV1(app.wsUrl, room, { name: 'Robert', token: bob.welcome.token });
      assert.equal(again.welcome.you.role, 'moderator', 'the role belongs to the id, whatever the name');
      assert.deepEqual(again.welcome.roles.moderators, [bob.welcome.you.id]);
      first.client.close();
      again.client.close();
    });

    test('who may do what: members nothing, moderators only below them, the owner’s actions the owner’s', async () => {
      const room = `rules_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      const ids = { owner: owner.welcome.you.id, bob: bob.welcome.you.id, carl: carl.welcome.you.id };
      assert.equal((await moderate(carl.client, 'kick', ids.bob)).code, 'forbidden', 'a member moderates no one');
      assert.equal((await moderate(owner.client, 'promote', ids.bob)).type, 'ack');
      assert.equal((await moderate(bob.client, 'kick', ids.owner)).code, 'forbidden', 'not the owner');
      assert.equal((await moderate(bob.client, 'promote', ids.carl)).code, 'forbidden', 'promoting is the owner’s');
      assert.equal((await moderate(owner.client, 'kick', ids.owner)).code, 'forbidden', 'not oneself');
      assert.equal((await moderate(bob.client, 'kick', 'u_nobody_here')).code, 'not_present');
      const bad = await requestV1(owner.client, { type: 'moderate', action: 'banish', userId: ids.carl }, nextId());
      assert.equal(bad.code, 'bad_frame');
      // A moderator deletes anyone's message; a member only their own.
      const carlsMessage = await postV1(carl.client, 'spam');
      const ownersMessage = await postV1(owner.client, 'rules');
      assert.equal((await requestV1(carl.client, { type: 'delete', id: ownersMessage }, nextId())).code, 'forbidden');
      assert.equal((await requestV1(bob.client, { type: 'delete', id: carlsMessage }, nextId())).type, 'ack');
      const deleted = await nextOfType(carl.client, 'delete');
      assert.equal(deleted.id, carlsMessage);
      for (const { client } of [owner, bob, carl]) client.close();
    });

    test('kick: everyone is told, the person’s sockets close with 4403 (kicked); they may come back', async () => {
      const room = `kick_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      const carlTab2 = await connectV1(app.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
      const ack = await moderate(owner.client, 'kick', carl.welcome.you.id, { reason: 'calm down' });
      assert.equal(ack.type, 'ack');
      const told = await nextOfType(bob.client, 'moderation');
      assert.deepEqual([told.action, told.user.name, told.reason], ['kick', 'Carl', 'calm down']);
      for (const tab of [carl.client, carlTab2.client]) {
        assert.equal((await nextOfType(tab, 'moderation')).action, 'kick');
        const error = await tab.next();
        assert.equal(error.code, 'kicked');
        assert.equal((await tab.waitClose()).code, CLOSE_CODES.removed);
      }
      const back = await connectV1(app.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
      assert.equal(back.welcome.type, 'welcome');
      for (const client of [owner.client, bob.client, back.client]) client.close();
    });

    test('ban: closed now, kept out by id and by address until unbanned; a fresh identity elsewhere gets in', async () => {
      const room = `ban_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room, { carlAddress: '127.0.0.7' });
      const carlId = carl.welcome.you.id;
      const ack = await moderate(owner.client, 'ban', carlId, { durationSeconds: 3600 });
      assert.equal(ack.type, 'ack');
      const event = await nextOfType(bob.client, 'moderation');
      assert.equal(event.action, 'ban');
      assert.ok(event.until > Date.now() + 3500 * 1000, 'until is an hour on');
      await nextOfType(carl.client, 'moderation');
      const error = await carl.client.next();
      assert.deepEqual([error.code, error.until], ['banned', event.until]);
      assert.equal((await carl.client.waitClose()).code, CLOSE_CODES.removed);

      // The same person with their token, from another address: refused before the welcome.
      const sameToken = await TestClient.connect(`${app.wsUrl}/ws/chat/${room}/?name=Carl`, {
        protocols: ['parley.v1', `parley.token.${carl.welcome.token}`],
        localAddress: '127.0.0.8',
      });
      assert.equal((await sameToken.next()).code, 'banned', 'by id, from another address too');
      assert.equal((await sameToken.waitClose()).code, CLOSE_CODES.removed);
      // A fresh identity from the banned address: refused (the ban keys on the address as well).
      const fromAddress = await bannedEntry(app.wsUrl, room, 'name=Carlo', '127.0.0.7');
      assert.deepEqual([fromAddress?.frame.code, fromAddress?.code], ['banned', CLOSE_CODES.removed]);
      // A fresh identity from another address: welcome.
      const stranger = await connectV1(app.wsUrl, room, { name: 'Dora', localAddress: '127.0.0.9' });
      assert.equal(stranger.welcome.type, 'welcome');

      // Unbanned: back in, by id and from the address.
      assert.equal((await moderate(owner.client, 'unban', carlId)).type, 'ack');
      const unban = await nextOfType(bob.client, 'moderation');
      assert.deepEqual([unban.action, unban.user.name], ['unban', 'Carl'], 'an absent person is named as they were');
      const back = await connectV1(app.wsUrl, room, {
        name: 'Carl',
        token: carl.welcome.token,
        localAddress: '127.0.0.7',
      });
      assert.equal(back.welcome.you.id, carlId);
      const fresh = await connectV1(app.wsUrl, room, { name: 'Carlos', localAddress: '127.0.0.7' });
      assert.equal(fresh.welcome.type, 'welcome');
      for (const client of [owner.client, bob.client, stranger.client, back.client, fresh.client]) client.close();
    });

    test('an address ban keeps out members from that address, not the owner or moderators on it', async () => {
      const room = `sharedaddress_${engine}`;
      // Everyone here connects from 127.0.0.1, as people behind one office router would.
      const { owner, bob, carl } = await roomOfThree(app, room);
      assert.equal((await moderate(owner.client, 'promote', bob.welcome.you.id)).type, 'ack');
      assert.equal((await moderate(owner.client, 'ban', carl.welcome.you.id)).type, 'ack');
      await carl.client.waitClose();
      const newcomer = await bannedEntry(app.wsUrl, room, 'name=Nora', '127.0.0.1');
      assert.equal(newcomer?.frame.code, 'banned', 'a new member from the address is kept out');
      owner.client.close();
      bob.client.close();
      const ownerBack = await connectV1(app.wsUrl, room, { name: 'Olga', token: owner.welcome.token });
      const bobBack = await connectV1(app.wsUrl, room, { name: 'Bob', token: bob.welcome.token });
      assert.equal(ownerBack.welcome.you.role, 'owner');
      assert.equal(bobBack.welcome.you.role, 'moderator');
      assert.equal((await requestV1(ownerBack.client, { type: 'message', text: 'still here' }, nextId())).type, 'ack');
      assert.equal((await requestV1(bobBack.client, { type: 'message', text: 'me too' }, nextId())).type, 'ack');
      ownerBack.client.close();
      bobBack.client.close();
    });

    test('a reference client (no identity) chats in an open room; an invite-only room and an address ban keep it out', async () => {
      const room = `reference_${engine}`;
      const { owner, carl } = await roomOfThree(app, room);
      const reference = (localAddress: string) => TestClient.connect(`${app.wsUrl}/ws/chat/${room}/`, { localAddress });
      const open = await reference('127.0.0.3');
      open.send({ message: 'hello from the tutorial page' });
      assert.deepEqual(await open.next(), { message: 'hello from the tutorial page' });
      open.close();

      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true }, nextId())).type, 'ack');
      const shut = await reference('127.0.0.3');
      assert.equal((await shut.next()).code, 'invite_required');
      assert.equal((await shut.waitClose()).code, CLOSE_CODES.removed);
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: false }, nextId())).type, 'ack');

      // Carl is banned from the address he came from: a reference client from there is kept out too.
      assert.equal((await moderate(owner.client, 'ban', carl.welcome.you.id)).type, 'ack');
      await carl.client.waitClose();
      let refused: any;
      for (let attempt = 0; attempt < 20 && refused === undefined; attempt++) {
        const client = await reference('127.0.0.1');
        const first = await client.next().catch(() => undefined);
        if (first?.code === 'banned') refused = { first, close: await client.waitClose() };
        else {
          client.close();
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      assert.equal(refused?.first.code, 'banned', 'the banned address keeps reference clients out');
      assert.equal(refused?.close.code, CLOSE_CODES.removed);
      const elsewhere = await reference('127.0.0.3');
      elsewhere.send({ message: 'another address' });
      assert.deepEqual(await elsewhere.next(), { message: 'another address' });
      elsewhere.close();
      owner.client.close();
    });

    test('mute: the person stays but cannot post, edit or react until unmuted', async () => {
      const room = `mute_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      const carlsMessage = await postV1(carl.client, 'before');
      assert.equal((await moderate(owner.client, 'mute', carl.welcome.you.id, { durationSeconds: 600 })).type, 'ack');
      const event = await nextOfType(carl.client, 'moderation');
      assert.equal(event.action, 'mute');
      const refused = await requestV1(carl.client, { type: 'message', text: 'let me speak' }, nextId());
      assert.deepEqual([refused.code, refused.until], ['muted', event.until]);
      const carlAgain = await connectV1(app.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
      assert.equal(carlAgain.welcome.you.mutedUntil, event.until, 'the welcome says the reader is muted');
      carlAgain.client.close();
      const edit = await requestV1(carl.client, { type: 'edit', id: carlsMessage, text: 'sneaky' }, nextId());
      assert.equal(edit.code, 'muted');
      const react = await requestV1(carl.client, { type: 'react', id: carlsMessage, emoji: '👍' }, nextId());
      assert.equal(react.code, 'muted');
      assert.equal((await moderate(owner.client, 'unmute', carl.welcome.you.id)).type, 'ack');
      assert.equal((await requestV1(carl.client, { type: 'message', text: 'thanks' }, nextId())).type, 'ack');
      for (const client of [owner.client, bob.client, carl.client]) client.close();
    });

    test('transfer: the room changes hands; the old owner stays as a moderator', async () => {
      const room = `transfer_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      assert.equal((await moderate(owner.client, 'transfer', bob.welcome.you.id)).type, 'ack');
      assert.equal((await nextOfType(carl.client, 'moderation')).action, 'transfer');
      const late = await connectV1(app.wsUrl, room, { name: 'Late' });
      assert.deepEqual(late.welcome.roles, { owner: bob.welcome.you.id, moderators: [owner.welcome.you.id] });
      assert.equal((await moderate(owner.client, 'promote', carl.welcome.you.id)).code, 'forbidden', 'no longer owner');
      assert.equal((await moderate(bob.client, 'promote', carl.welcome.you.id)).type, 'ack');
      assert.equal((await moderate(carl.client, 'kick', late.welcome.you.id)).type, 'ack', 'a moderator kicks');
      // Demoted, a moderator is a member again: told to the room, and no more kicking.
      assert.equal((await moderate(bob.client, 'demote', carl.welcome.you.id)).type, 'ack');
      let demoted;
      do demoted = await nextOfType(owner.client, 'moderation');
      while (demoted.action !== 'demote');
      assert.equal(demoted.user.id, carl.welcome.you.id);
      assert.equal((await moderate(carl.client, 'mute', owner.welcome.you.id)).code, 'forbidden');
      const carlBack = await connectV1(app.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
      assert.equal(carlBack.welcome.you.role, 'member');
      carlBack.client.close();
      for (const client of [owner.client, bob.client, carl.client, late.client]) client.close();
    });

    test('settings: the owner’s; everyone is told; the welcome carries them; slow mode and read-only hold for members only', async () => {
      const room = `settings_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      assert.deepEqual(carl.welcome.settings, {
        topic: '',
        unlisted: false,
        inviteOnly: false,
        slowModeSeconds: 0,
        readOnly: false,
      });
      const refused = await requestV1(bob.client, { type: 'settings', slowModeSeconds: 60 }, nextId());
      assert.equal(refused.code, 'forbidden', 'settings are the owner’s');
      const ack = await requestV1(owner.client, { type: 'settings', topic: 'Be kind', slowModeSeconds: 30 }, nextId());
      assert.equal(ack.type, 'ack');
      const told = await nextOfType(carl.client, 'settings');
      assert.deepEqual(
        { topic: told.topic, slowModeSeconds: told.slowModeSeconds, readOnly: told.readOnly, eventId: told.eventId },
        { topic: 'Be kind', slowModeSeconds: 30, readOnly: false, eventId: ack.id },
      );
      assert.equal(told.by.id, owner.welcome.you.id);

      // Slow mode: one message per 30 s for a member; a moderator and the owner are exempt.
      assert.equal((await moderate(owner.client, 'promote', bob.welcome.you.id)).type, 'ack');
      assert.equal((await requestV1(carl.client, { type: 'message', text: 'one' }, nextId())).type, 'ack');
      const slowed = await requestV1(carl.client, { type: 'message', text: 'two' }, nextId());
      assert.equal(slowed.code, 'slow_mode');
      assert.ok(slowed.retryAfterMs > 25_000 && slowed.retryAfterMs <= 30_000, `retryAfterMs ${slowed.retryAfterMs}`);
      for (const client of [owner.client, bob.client, owner.client, bob.client])
        assert.equal((await requestV1(client, { type: 'message', text: 'exempt' }, nextId())).type, 'ack');

      // Read-only: members may not post at all (moderators may); the change keeps the other settings.
      await requestV1(owner.client, { type: 'settings', readOnly: true, slowModeSeconds: 0 }, nextId());
      const readOnly = await requestV1(carl.client, { type: 'message', text: 'hi' }, nextId());
      assert.equal(readOnly.code, 'read_only');
      assert.equal((await requestV1(bob.client, { type: 'message', text: 'a moderator' }, nextId())).type, 'ack');
      const late = await connectV1(app.wsUrl, room, { name: 'Late' });
      assert.deepEqual([late.welcome.settings.topic, late.welcome.settings.readOnly], ['Be kind', true]);
      const badTopic = await requestV1(owner.client, { type: 'settings', topic: 'x'.repeat(201) }, nextId());
      assert.equal(badTopic.code, 'bad_frame');
      for (const client of [owner.client, bob.client, carl.client, late.client]) client.close();
    });

    test('an unlisted room never appears in the room list, the metrics or the errors of people elsewhere', async () => {
      const room = `unlisted_${engine}`;
      const owner = await connectV1(app.wsUrl, room, { name: 'Olga' });
      await postV1(owner.client, 'secret');
      const listed = async () =>
        ((await (await fetch(`${app.httpUrl}/api/rooms`)).json()) as any).rooms.some((r: any) => r.room === room);
      // (The room list is rebuilt about once a second.)
      const waitFor = async (want: boolean) => {
        for (let i = 0; i < 40 && (await listed()) !== want; i++) await new Promise((r) => setTimeout(r, 100));
        return listed();
      };
      assert.equal(await waitFor(true), true);
      assert.equal((await requestV1(owner.client, { type: 'settings', unlisted: true }, nextId())).type, 'ack');
      assert.equal(await waitFor(false), false);
      // Nor anywhere else anyone may look: the metrics carry no room names, and a stranger in
      // another room, refused for whatever reason, is never told about it.
      await postV1(owner.client, 'still here');
      const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
      assert.ok(metrics.includes('parley_messages_in_total'), 'the metrics answered');
      assert.ok(!metrics.includes(room), 'no metric names the unlisted room');
      const stranger = await connectV1(app.wsUrl, `elsewhere_${engine}`, { name: 'Stan' });
      const refusals = [
        await requestV1(stranger.client, { type: 'message', text: '' }, nextId()),
        await requestV1(stranger.client, { type: 'moderate', action: 'ban', userId: owner.welcome.you.id }, nextId()),
        await requestV1(stranger.client, { type: 'settings', unlisted: false }, nextId()),
      ];
      for (const refusal of refusals) {
        assert.equal(refusal.type, 'error');
        assert.ok(
          !JSON.stringify(refusal).includes(room),
          `no error names the unlisted room: ${JSON.stringify(refusal)}`,
        );
      }
      stranger.client.close();
      owner.client.close();
    });

    test('invite-only: those present stay, newcomers need an invite (the owner’s and moderators’ to give), then are let in for good', async () => {
      const room = `invite_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true }, nextId())).type, 'ack');
      // Someone who was here when it became invite-only comes back without an invite.
      bob.client.close();
      const bobBack = await connectV1(app.wsUrl, room, { name: 'Bob', token: bob.welcome.token });
      assert.equal(bobBack.welcome.settings.inviteOnly, true);
      // A newcomer without an invite, or with a forged one, or one for another room: refused.
      const enter = async (query: string) => {
        const client = await TestClient.connect(`${app.wsUrl}/ws/chat/${room}/?name=Nina${query}`, {
          protocols: ['parley.v1'],
        });
        return { client, first: await client.next() };
      };
      // ...and one the server signed that has expired (made by its own identity tokens, as the
      // invite frame would have a while ago: the shortest invite lasts a minute).
      const expired = await app.app.identity.invite(room, Date.now() - 1000);
      const forAnotherRoom = await app.app.identity.invite(`${room}_other`, Date.now() + 60_000);
      for (const query of [
        '',
        '&invite=zzzzzz.abc.def',
        `&invite=${encodeURIComponent(forAnotherRoom)}`,
        `&invite=${encodeURIComponent(expired)}`,
      ]) {
        const { client, first } = await enter(query);
        assert.equal(first.code, 'invite_required', query);
        assert.equal((await client.waitClose()).code, CLOSE_CODES.removed);
      }
      // Members may not invite; the owner may, and the invite opens this room only.
      const refused = await requestV1(carl.client, { type: 'invite' }, nextId());
      assert.equal(refused.code, 'forbidden');
      const clientMsgId = nextId();
      owner.client.send({ type: 'invite', expiresInSeconds: 600, clientMsgId });
      const invite = await nextOfType(owner.client, 'invite');
      assert.equal(invite.clientMsgId, clientMsgId);
      assert.ok(invite.expiresTs > Date.now() + 590_000 && invite.expiresTs <= Date.now() + 600_000);
      const elsewhere = await TestClient.connect(
        `${app.wsUrl}/ws/chat/${room}_other/?name=Nina&invite=${encodeURIComponent(invite.invite)}`,
        { protocols: ['parley.v1'] },
      );
      assert.equal((await elsewhere.next()).type, 'welcome', 'another room (not invite-only) opens anyway');
      elsewhere.close();
      const { client: nina, first } = await enter(`&invite=${encodeURIComponent(invite.invite)}`);
      assert.equal(first.type, 'welcome');
      nina.close();
      const ninaBack = await connectV1(app.wsUrl, room, { name: 'Nina', token: first.token });
      assert.equal(ninaBack.welcome.type, 'welcome', 'let in for good: no invite needed again');
      for (const client of [owner.client, bobBack.client, carl.client, ninaBack.client]) client.close();
    });

    test('purge: that person’s messages of the window go, live and on recovery; older ones and others’ stay; a resend is applied once', async () => {
      const room = `purge_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      const carlId = carl.welcome.you.id;
      const older = await postV1(carl.client, 'from before the window');
      await sleep(2200);
      const bobs = await postV1(bob.client, 'not Carl’s');
      const spam = [];
      for (const text of ['spam 1', 'spam 2', 'spam 3']) spam.push(await postV1(carl.client, text));
      // Carl took one back himself: the purge skips it.
      const ownDelete = await requestV1(carl.client, { type: 'delete', id: spam[1] }, nextId());
      assert.equal(ownDelete.type, 'ack');
      // Dora has seen everything so far, then goes; so does Carl (the person need not be present).
      const dora = await connectV1(app.wsUrl, room, { name: 'Dora' });
      dora.client.close();
      carl.client.close();

      assert.equal((await moderate(bob.client, 'purge', carlId)).code, 'forbidden', 'a member purges no one');
      const clientMsgId = nextId();
      const frame = { type: 'moderate', action: 'purge', userId: carlId, durationSeconds: 2, reason: 'spam' };
      const ack = await requestV1(owner.client, frame, clientMsgId);
      assert.equal(ack.type, 'ack');
      const { event, deleted } = await purgeSeenBy(bob.client, ownDelete.id);
      assert.deepEqual(deleted, [spam[2], spam[0]], 'the window’s messages not deleted yet, newest first');
      assert.deepEqual(
        [event.user, event.by.id, event.count, event.reason, event.eventId],
        [{ id: carlId, name: 'Carl' }, owner.welcome.you.id, 2, 'spam', ack.id],
      );
      // A resend is acked with the same entry and deletes nothing more.
      assert.equal((await requestV1(owner.client, frame, clientMsgId)).id, ack.id);
      const marker = await postV1(owner.client, 'after the purge');
      for (let next = await bob.client.next(); next.id !== marker; next = await bob.client.next())
        assert.ok(next.type !== 'delete' && next.type !== 'moderation', `nothing more, got ${JSON.stringify(next)}`);

      // History shows the purged messages deleted, older ones and others’ as they were.
      const latest = await page(app, room);
      const state = (id: string) => {
        const message = latest.messages.find((m: any) => m.id === id);
        return message.deleted === true ? 'deleted' : message.text;
      };
      assert.deepEqual([older, bobs, ...spam].map(state), [
        'from before the window',
        'not Carl’s',
        'deleted',
        'deleted',
        'deleted',
      ]);
      // Dora, back with the `since` she had: the deletions and the purge, in the log’s order.
      const back = await connectV1(app.wsUrl, room, { name: 'Dora', token: dora.welcome.token, since: ownDelete.id });
      assert.deepEqual(
        back.welcome.changes?.map((c: any) => [c.type, c.id]),
        [
          ['delete', spam[2]],
          ['delete', spam[0]],
        ],
      );
      assert.deepEqual(
        back.welcome.moderation?.map((m: any) => [m.action, m.count, m.eventId]),
        [['purge', 2, ack.id]],
      );
      // From before the spam: the messages themselves come deleted, with no text.
      const earlier = await connectV1(app.wsUrl, room, { name: 'Eve', since: bobs });
      assert.deepEqual(
        earlier.welcome.history.map((m: any) => [m.id, m.deleted ?? false, m.text]),
        [
          [spam[0], true, undefined],
          [spam[1], true, undefined],
          [spam[2], true, undefined],
          [marker, false, 'after the purge'],
        ],
      );
      // An after-page carries the same as the welcome.
      const after = await page(app, room, `&after=${ownDelete.id}`);
      assert.deepEqual(
        [after.changes?.map((c: any) => c.id), after.moderation?.map((m: any) => m.count)],
        [[spam[2], spam[0]], [2]],
      );

      // A moderator purges nobody above them.
      assert.equal((await moderate(owner.client, 'promote', bob.welcome.you.id)).type, 'ack');
      assert.equal((await moderate(bob.client, 'purge', owner.welcome.you.id)).code, 'forbidden', 'not the owner');
      for (const client of [owner.client, bob.client, back.client, earlier.client]) client.close();
    });

    test('purge is bounded: one deletes the newest MAX_PURGE_MESSAGES, the next the rest', async (t) => {
      // A log long enough to hold every message and the purges' entries (nothing trimmed).
      const roomy = await startApp(t, { REDIS_URL: redis?.url, HISTORY_LENGTH: '2000' });
      const room = `purgecap_${engine}`;
      const { owner, bob, carl } = await roomOfThree(roomy, room);
      const carlId = carl.welcome.you.id;
      const ids = await postMany(carl.client, MAX_PURGE_MESSAGES + 2, 'flood');
      const first = await moderate(owner.client, 'purge', carlId);
      const seen = await purgeSeenBy(bob.client, ids.at(-1)!);
      assert.equal(seen.event.eventId, first.id);
      assert.equal(seen.event.count, MAX_PURGE_MESSAGES);
      assert.deepEqual(seen.deleted, ids.slice(2).reverse(), 'the newest first');
      // What is left goes with the next purge; then there is nothing left to purge.
      await moderate(owner.client, 'purge', carlId);
      const second = await purgeSeenBy(bob.client, first.id);
      assert.deepEqual([second.event.count, second.deleted], [2, [ids[1], ids[0]]]);
      await moderate(owner.client, 'purge', carlId);
      assert.equal((await purgeSeenBy(bob.client, second.event.eventId)).event.count, 0);
      const latest = await page(roomy, room, '&after=0-0');
      assert.equal(
        latest.messages.filter((m: any) => m.user.id === carlId && m.deleted !== true).length,
        0,
        'none of Carl’s messages is left',
      );
      for (const { client } of [owner, bob, carl]) client.close();
    });

    test('a resend is applied once; a client away during moderation gets it with `since`', async () => {
      const room = `replay_${engine}`;
      const { owner, bob, carl } = await roomOfThree(app, room);
      const since = await postV1(bob.client, 'leaving for a moment');
      bob.client.close();
      const clientMsgId = nextId();
      const frame = { type: 'moderate', action: 'mute', userId: carl.welcome.you.id, durationSeconds: 60 };
      const first = await requestV1(owner.client, frame, clientMsgId);
      const again = await requestV1(owner.client, frame, clientMsgId);
      assert.equal(again.id, first.id, 'stored once');
      const topic = await requestV1(owner.client, { type: 'settings', topic: 'While you were out' }, nextId());
      const back = await connectV1(app.wsUrl, room, { name: 'Bob', token: bob.welcome.token, since });
      assert.deepEqual(
        back.welcome.moderation?.map((m: any) => [m.action, m.user.id, m.eventId]),
        [['mute', carl.welcome.you.id, first.id]],
      );
      assert.deepEqual(
        back.welcome.settingsChanges?.map((s: any) => [s.topic, s.eventId]),
        [['While you were out', topic.id]],
      );
      for (const client of [owner.client, carl.client, back.client]) client.close();
    });
  });
}

describe('moderation across two instances (redis engine)', () => {
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  before(async () => {
    ({ a, b, stop } = await startTwoInstances(undefined));
  });
  after(() => stop());

  test('a purge on A deletes on B, live and for a client of B recovering with `since`', async () => {
    const room = 'purge_across';
    const owner = await connectV1(a.wsUrl, room, { name: 'Olga' });
    await postV1(owner.client, 'mine');
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
    const before = await postV1(bob.client, 'before the spam');
    const dora = await connectV1(b.wsUrl, room, { name: 'Dora' });
    dora.client.close();
    const spam = [await postV1(carl.client, 'spam 1'), await postV1(carl.client, 'spam 2')];
    const ack = await moderate(owner.client, 'purge', carl.welcome.you.id);
    assert.equal(ack.type, 'ack');
    for (const client of [bob.client, carl.client]) {
      const { event, deleted } = await purgeSeenBy(client, before);
      assert.deepEqual([deleted, event.count, event.eventId], [[spam[1], spam[0]], 2, ack.id]);
    }
    const back = await connectV1(b.wsUrl, room, { name: 'Dora', token: dora.welcome.token, since: before });
    assert.deepEqual(
      back.welcome.history.map((m: any) => [m.id, m.deleted ?? false]),
      [
        [spam[0], true],
        [spam[1], true],
      ],
    );
    assert.deepEqual(
      back.welcome.moderation?.map((m: any) => [m.action, m.count]),
      [['purge', 2]],
    );
    for (const client of [owner.client, carl.client, bob.client, back.client]) client.close();
  });

  test('a ban on A closes the person’s socket on B, and B bans the address it came from', async () => {
    const room = 'across';
    const owner = await connectV1(a.wsUrl, room, { name: 'Olga' });
    await postV1(owner.client, 'mine');
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', localAddress: '127.0.0.11' });
    assert.equal((await moderate(owner.client, 'ban', carl.welcome.you.id)).type, 'ack');
    await nextOfType(carl.client, 'moderation');
    assert.equal((await carl.client.next()).code, 'banned');
    assert.equal((await carl.client.waitClose()).code, CLOSE_CODES.removed);
    // A new identity from Carl's address, on A: refused (the address ban B wrote is shared).
    const refused = await bannedEntry(a.wsUrl, room, 'name=Karl', '127.0.0.11');
    assert.deepEqual([refused?.frame.code, refused?.code], ['banned', CLOSE_CODES.removed]);
    owner.client.close();
  });

  test('kick, mute and invite-only set on A hold on B; a banned person recovering with `since` on B is refused', async () => {
    const room = 'across_more';
    const owner = await connectV1(a.wsUrl, room, { name: 'Olga' });
    const first = await postV1(owner.client, 'mine');
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', localAddress: '127.0.0.12' });
    const dora = await connectV1(b.wsUrl, room, { name: 'Dora', localAddress: '127.0.0.13' });

    // Kick on A: Carl's socket on B closes with 4403 (kicked); he may come back.
    assert.equal((await moderate(owner.client, 'kick', carl.welcome.you.id)).type, 'ack');
    assert.equal((await nextOfType(carl.client, 'error', 5000)).code, 'kicked');
    assert.equal((await carl.client.waitClose()).code, CLOSE_CODES.removed);
    const carlBack = await connectV1(b.wsUrl, room, {
      name: 'Carl',
      token: carl.welcome.token,
      localAddress: '127.0.0.12',
    });

    // Mute on A: his posts on B are refused until unmuted on A.
    assert.equal((await moderate(owner.client, 'mute', carl.welcome.you.id, { durationSeconds: 600 })).type, 'ack');
    await nextOfType(carlBack.client, 'moderation', 5000);
    assert.equal((await requestV1(carlBack.client, { type: 'message', text: 'hi' }, nextId())).code, 'muted');
    assert.equal((await moderate(owner.client, 'unmute', carl.welcome.you.id)).type, 'ack');
    let unmuted;
    do unmuted = await nextOfType(carlBack.client, 'moderation', 5000);
    while (unmuted.action !== 'unmute');
    assert.equal((await requestV1(carlBack.client, { type: 'message', text: 'thanks' }, nextId())).type, 'ack');

    // Invite-only on A: a newcomer on B needs an invite, and one made on A lets them in on B.
    assert.equal((await requestV1(owner.client, { type: 'settings', inviteOnly: true }, nextId())).type, 'ack');
    const newcomer = await TestClient.connect(`${b.wsUrl}/ws/chat/${room}/?name=Nina`, { protocols: ['parley.v1'] });
    assert.equal((await newcomer.next()).code, 'invite_required');
    const clientMsgId = nextId();
    owner.client.send({ type: 'invite', clientMsgId });
    const invite = await nextOfType(owner.client, 'invite');
    const invited = await TestClient.connect(
      `${b.wsUrl}/ws/chat/${room}/?name=Nina&invite=${encodeURIComponent(invite.invite)}`,
      { protocols: ['parley.v1'] },
    );
    assert.equal((await invited.next()).type, 'welcome');
    invited.close();

    // Dora is banned on A (her socket on B closes), then tries to recover on B with `since`: refused.
    assert.equal((await moderate(owner.client, 'ban', dora.welcome.you.id)).type, 'ack');
    assert.equal((await dora.client.waitClose(5000)).code, CLOSE_CODES.removed);
    const recovering = await TestClient.connect(
      `${b.wsUrl}/ws/chat/${room}/?name=Dora&since=${encodeURIComponent(first)}`,
      { protocols: ['parley.v1', tokenProtocol(dora.welcome.token)], localAddress: '127.0.0.13' },
    );
    const answer = await recovering.next();
    assert.equal(answer.code, 'banned', 'no welcome, no history');
    assert.equal((await recovering.waitClose()).code, CLOSE_CODES.removed);
    for (const client of [owner.client, carlBack.client]) client.close();
  });
});
