import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOSE_CODES } from '@parley/protocol';
import type { RunningApp } from './helpers/app.ts';
import { configure, enter, moderate, moderationEvent, send } from './helpers/moderation.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, nextOfType, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * Moderation across two instances sharing one Redis (issue "Rooms people can protect"): what one
 * instance decides, the other enforces, and the other's sockets are told. (moderation.test.ts has
 * kick, mute, invite-only, ban and purge across two instances; these are the rest: unban,
 * demote, transfer, slow mode and read-only.)
 */

/** A room owned by Olga on A (her first message makes her its owner), with the message's id. */
async function ownedOnA(a: RunningApp, room: string) {
  const owner = await connectV1(a.wsUrl, room, { name: 'Olga' });
  const first = await postV1(owner.client, 'I was here first');
  return { owner, first };
}

/** Expects an entry refused with `code` and the close of a removed person (4403). */
function assertRefused(entry: Awaited<ReturnType<typeof enter>>, code: string, what: string): void {
  assert.ok('refused' in entry, `${what}: expected ${code}, got a welcome`);
  assert.deepEqual([entry.refused.code, entry.code], [code, CLOSE_CODES.removed], what);
}

/** Expects a welcome and returns it (and its socket). */
function assertWelcomed(entry: Awaited<ReturnType<typeof enter>>, what: string): { welcome: any; client: TestClient } {
  assert.ok(
    'welcome' in entry,
    `${what}: expected a welcome, got ${JSON.stringify('refused' in entry && entry.refused)}`,
  );
  return entry;
}

describe('moderation across two instances, continued (redis engine)', () => {
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  before(async () => {
    ({ a, b, stop } = await startTwoInstances(undefined));
  });
  after(() => stop());

  test('unban: banned on A, unbanned by a moderator on B, the person connects on B again (by token and from the address)', async () => {
    const room = 'unban_across';
    const { owner } = await ownedOnA(a, room);
    const mia = await connectV1(b.wsUrl, room, { name: 'Mia', localAddress: '127.0.0.20' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl', localAddress: '127.0.0.21' });
    const carlId = carl.welcome.you.id;
    const promoted = await moderate(owner.client, 'promote', mia.welcome.you.id);
    assert.equal(promoted.type, 'ack');
    assert.equal((await moderationEvent(mia.client, 'promote')).eventId, promoted.id, 'B is told of the promotion');

    const ban = await moderate(owner.client, 'ban', carlId, { durationSeconds: 3600 });
    assert.equal(ban.type, 'ack');
    const banSeenOnB = await moderationEvent(mia.client, 'ban');
    assert.deepEqual([banSeenOnB.user.id, banSeenOnB.eventId], [carlId, ban.id]);
    assert.equal((await nextOfType(carl.client, 'error', 5000)).code, 'banned');
    assert.equal((await carl.client.waitClose(5000)).code, CLOSE_CODES.removed);
    // Kept out of B by id (from another address) and by address (a new identity from his).
    assertRefused(
      await enter(b.wsUrl, room, { name: 'Carl', token: carl.welcome.token, localAddress: '127.0.0.22' }),
      'banned',
      'by token on B',
    );
    assertRefused(
      await enter(b.wsUrl, room, { name: 'Karl', localAddress: '127.0.0.21' }),
      'banned',
      'by address on B',
    );

    // Mia lifts it on B: both instances' sockets are told, with the person named as he was.
    const unban = await moderate(mia.client, 'unban', carlId);
    assert.equal(unban.type, 'ack');
    for (const [where, client] of [
      ['A', owner.client],
      ['B', mia.client],
    ] as const) {
      const event = await moderationEvent(client, 'unban');
      assert.deepEqual(
        [event.user, event.by.id, event.eventId],
        [{ id: carlId, name: 'Carl' }, mia.welcome.you.id, unban.id],
        `the unban as ${where} tells it`,
      );
    }
    // Back in on B with his token and from his address, and a new identity from it too; and on A.
    const back = assertWelcomed(
      await enter(b.wsUrl, room, { name: 'Carl', token: carl.welcome.token, localAddress: '127.0.0.21' }),
      'Carl on B after the unban',
    );
    assert.equal(back.welcome.you.id, carlId);
    assert.equal((await send(back.client, 'thanks')).type, 'ack', 'and may post');
    const joined = await nextOfType(owner.client, 'join', 5000);
    assert.equal(joined.user.id, carlId, 'A sees him come back');
    const fresh = assertWelcomed(
      await enter(b.wsUrl, room, { name: 'Karl', localAddress: '127.0.0.21' }),
      'a new identity from his address, on B',
    );
    const onA = assertWelcomed(
      await enter(a.wsUrl, room, { name: 'Carl', token: carl.welcome.token, localAddress: '127.0.0.21' }),
      'Carl on A',
    );
    for (const client of [owner.client, mia.client, back.client, fresh.client, onA.client]) client.close();
  });

  test('demote: a moderator promoted and demoted on A loses a moderator’s powers on B', async () => {
    const room = 'demote_across';
    const { owner } = await ownedOnA(a, room);
    const mia = await connectV1(b.wsUrl, room, { name: 'Mia' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    const miaId = mia.welcome.you.id;
    const promote = await moderate(owner.client, 'promote', miaId);
    assert.equal(promote.type, 'ack');
    for (const client of [mia.client, carl.client])
      assert.deepEqual((await moderationEvent(client, 'promote')).user.id, miaId, 'B is told of the promotion');
    // A moderator on B: she may mute (and unmute) a member.
    assert.equal((await moderate(mia.client, 'mute', carl.welcome.you.id)).type, 'ack');
    assert.equal((await moderate(mia.client, 'unmute', carl.welcome.you.id)).type, 'ack');

    const demote = await moderate(owner.client, 'demote', miaId);
    assert.equal(demote.type, 'ack');
    for (const client of [mia.client, carl.client]) {
      const event = await moderationEvent(client, 'demote');
      assert.deepEqual([event.user.id, event.by.id, event.eventId], [miaId, owner.welcome.you.id, demote.id]);
    }
    // From B, at once: refused, and nothing happened to Carl.
    for (const action of ['mute', 'kick', 'ban'])
      assert.equal((await moderate(mia.client, action, carl.welcome.you.id)).code, 'forbidden', action);
    assert.equal((await send(carl.client, 'not muted')).type, 'ack');
    const late = await connectV1(b.wsUrl, room, { name: 'Late' });
    assert.deepEqual(late.welcome.roles, { owner: owner.welcome.you.id, moderators: [] });
    const miaBack = await connectV1(b.wsUrl, room, { name: 'Mia', token: mia.welcome.token });
    assert.equal(miaBack.welcome.you.role, 'member');
    assert.equal((await moderate(miaBack.client, 'mute', carl.welcome.you.id)).code, 'forbidden');
    for (const client of [owner.client, mia.client, carl.client, late.client, miaBack.client]) client.close();
  });

  test('transfer: ownership handed over on A; on B the new owner changes settings and the old one may not', async () => {
    const room = 'transfer_across';
    const { owner } = await ownedOnA(a, room);
    const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    // The owner has a tab on B too.
    const ownerOnB = await connectV1(b.wsUrl, room, { name: 'Olga', token: owner.welcome.token });
    assert.equal(ownerOnB.welcome.you.role, 'owner');

    const transfer = await moderate(owner.client, 'transfer', bob.welcome.you.id);
    assert.equal(transfer.type, 'ack');
    for (const client of [bob.client, carl.client, ownerOnB.client]) {
      const event = await moderationEvent(client, 'transfer');
      assert.deepEqual(
        [event.user.id, event.by.id, event.eventId],
        [bob.welcome.you.id, owner.welcome.you.id, transfer.id],
      );
    }
    // The old owner, on B: a moderator now, no settings.
    const refused = await configure(ownerOnB.client, { topic: 'Still mine' });
    assert.equal(refused.code, 'forbidden', 'the old owner changes no settings');
    // The new owner, on B: settings change, and both instances' sockets are told.
    const changed = await configure(bob.client, { topic: 'Bob’s room now' });
    assert.equal(changed.type, 'ack');
    for (const client of [owner.client, carl.client, ownerOnB.client]) {
      const told = await nextOfType(client, 'settings', 5000);
      assert.deepEqual([told.topic, told.by.id, told.eventId], ['Bob’s room now', bob.welcome.you.id, changed.id]);
    }
    // The old owner stays a moderator (she may still kick a member), and no longer promotes.
    assert.equal((await moderate(ownerOnB.client, 'promote', carl.welcome.you.id)).code, 'forbidden');
    assert.equal((await moderate(bob.client, 'promote', carl.welcome.you.id)).type, 'ack', 'the new owner promotes');
    const late = await connectV1(b.wsUrl, room, { name: 'Late' });
    assert.deepEqual(late.welcome.roles.owner, bob.welcome.you.id);
    assert.deepEqual(new Set(late.welcome.roles.moderators), new Set([owner.welcome.you.id, carl.welcome.you.id]));
    assert.equal(late.welcome.settings.topic, 'Bob’s room now');
    for (const client of [owner.client, bob.client, carl.client, ownerOnB.client, late.client]) client.close();
  });

  test('slow mode set on A holds on B: a member’s second quick send is refused with retryAfterMs; owner and moderators are exempt', async () => {
    const room = 'slow_across';
    const { owner } = await ownedOnA(a, room);
    const mia = await connectV1(b.wsUrl, room, { name: 'Mia' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    const ownerOnB = await connectV1(b.wsUrl, room, { name: 'Olga', token: owner.welcome.token });
    assert.equal((await moderate(owner.client, 'promote', mia.welcome.you.id)).type, 'ack');
    await moderationEvent(mia.client, 'promote');

    const ack = await configure(owner.client, { slowModeSeconds: 30 });
    assert.equal(ack.type, 'ack');
    for (const client of [mia.client, carl.client, ownerOnB.client]) {
      const told = await nextOfType(client, 'settings', 5000);
      assert.deepEqual([told.slowModeSeconds, told.eventId, told.by.id], [30, ack.id, owner.welcome.you.id]);
    }
    assert.equal((await send(carl.client, 'one')).type, 'ack');
    const slowed = await send(carl.client, 'two');
    assert.equal(slowed.code, 'slow_mode');
    assert.ok(slowed.retryAfterMs > 25_000 && slowed.retryAfterMs <= 30_000, `retryAfterMs ${slowed.retryAfterMs}`);
    // His tab on A is slowed by the same post: the last post is the room's, not an instance's.
    const carlOnA = await connectV1(a.wsUrl, room, { name: 'Carl', token: carl.welcome.token });
    const slowedOnA = await send(carlOnA.client, 'three');
    assert.equal(slowedOnA.code, 'slow_mode', 'the same member on A');
    assert.ok(slowedOnA.retryAfterMs > 0 && slowedOnA.retryAfterMs <= 30_000);
    // Exempt, twice in a row each: the owner (on B and on A) and the moderator on B.
    for (const client of [ownerOnB.client, ownerOnB.client, mia.client, mia.client, owner.client])
      assert.equal((await send(client, 'exempt')).type, 'ack');
    // Slow mode off (on A): Carl posts on B again.
    assert.equal((await configure(owner.client, { slowModeSeconds: 0 })).type, 'ack');
    assert.equal((await nextOfType(carl.client, 'settings', 5000)).slowModeSeconds, 0);
    assert.equal((await send(carl.client, 'free again')).type, 'ack');
    for (const client of [owner.client, mia.client, carl.client, ownerOnB.client, carlOnA.client]) client.close();
  });

  test('read-only set on A holds on B: a member’s send is refused, a moderator’s accepted', async () => {
    const room = 'readonly_across';
    const { owner } = await ownedOnA(a, room);
    const mia = await connectV1(b.wsUrl, room, { name: 'Mia' });
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    assert.equal((await moderate(owner.client, 'promote', mia.welcome.you.id)).type, 'ack');
    await moderationEvent(mia.client, 'promote');
    assert.equal((await send(carl.client, 'before')).type, 'ack');

    const ack = await configure(owner.client, { readOnly: true, topic: 'Announcements' });
    assert.equal(ack.type, 'ack');
    for (const client of [mia.client, carl.client]) {
      const told = await nextOfType(client, 'settings', 5000);
      assert.deepEqual([told.readOnly, told.topic, told.eventId], [true, 'Announcements', ack.id]);
    }
    const refused = await send(carl.client, 'may I?');
    assert.equal(refused.code, 'read_only');
    const byModerator = await send(mia.client, 'a moderator posts');
    assert.equal(byModerator.type, 'ack');
    // The moderator's message reaches both instances; the refused one reached nobody.
    for (const client of [owner.client, carl.client]) {
      let message;
      do {
        message = await nextOfType(client, 'message', 5000);
        assert.notEqual(message.text, 'may I?', 'the refused message reaches no one');
      } while (message.id !== byModerator.id);
      assert.equal(message.user.id, mia.welcome.you.id);
    }
    const late = await connectV1(b.wsUrl, room, { name: 'Late' });
    assert.deepEqual([late.welcome.settings.readOnly, late.welcome.settings.topic], [true, 'Announcements']);
    assert.equal((await send(late.client, 'hello?')).code, 'read_only', 'a newcomer on B too');
    // Lifted on A: Carl posts on B.
    assert.equal((await configure(owner.client, { readOnly: false })).type, 'ack');
    assert.equal((await nextOfType(carl.client, 'settings', 5000)).readOnly, false);
    assert.equal((await send(carl.client, 'at last')).type, 'ack');
    for (const client of [owner.client, mia.client, carl.client, late.client]) client.close();
  });
});
