import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareMessageIds } from '@parley/protocol';
import { DEFAULT_LIMITS, startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, json, nextOfType, postV1, requestV1, TestClient, personOf } from './helpers/ws-client.ts';
import { nextId } from './helpers/moderation.ts';
import { roomKeys } from '../src/engine/redis-keys.ts';

/**
 * Editing, deleting, reacting and replying (issue "Messages people can fix and answer"), on both
 * engines and across two instances: every change is an entry of the room's log, reaches every
 * member (the author's other tabs included), shows in history as the message's latest state,
 * and is replayed by a reconnect with `since`.
 */

/** Sends a frame with a fresh clientMsgId and returns the server's answer about it (ack or error). */
const request = (client: TestClient, frame: Record<string, unknown>, clientMsgId = nextId()): Promise<any> =>
  requestV1(client, frame, clientMsgId);

/** The latest page of a room, over HTTP. */
async function latest(app: RunningApp, room: string): Promise<any[]> {
  return (await json(await fetch(`${app.httpUrl}/api/rooms/${room}/messages`))).messages;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`message changes over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let app: RunningApp;
    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { REDIS_URL: redis?.url, EDIT_WINDOW_SECONDS: '900' });
    });
    after(async () => {
      await app.app.close();
      await redis?.stop();
    });

    test('an edit reaches everyone, the author’s other tab included, and history shows the latest text', async () => {
      const room = `edit_${engine}`;
      const { client: ann, welcome } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: annTab2 } = await connectV1(app.wsUrl, room, { name: 'Ann', token: welcome.token });
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const id = await postV1(ann, 'helo');
      const ack = await request(ann, { type: 'edit', id, text: 'hello' });
      assert.equal(ack.type, 'ack');
      assert.ok(compareMessageIds(ack.id, id) > 0, 'the edit has its own, later place in the log');
      for (const client of [ann, annTab2, bob]) {
        const edit = await nextOfType(client, 'edit');
        assert.deepEqual(
          { id: edit.id, text: edit.text, eventId: edit.eventId },
          { id, text: 'hello', eventId: ack.id },
        );
        assert.equal(typeof edit.editedTs, 'number');
      }
      const [message] = await latest(app, room);
      assert.equal(message.id, id);
      assert.equal(message.text, 'hello');
      const metrics = await (await fetch(`${app.httpUrl}/metrics`)).text();
      assert.match(metrics, /^parley_changes_in_total [1-9]/m, 'the edit is counted');
      assert.equal(typeof message.editedTs, 'number');
      for (const client of [ann, annTab2, bob]) client.close();
    });

    test('only the author may edit or delete; a message of nobody’s is not found; the connection stays', async () => {
      const room = `owner_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const id = await postV1(ann, 'mine');
      assert.equal((await request(bob, { type: 'edit', id, text: 'yours' })).code, 'forbidden');
      assert.equal((await request(bob, { type: 'delete', id })).code, 'forbidden');
      assert.equal((await request(bob, { type: 'edit', id: '1-0', text: 'x' })).code, 'not_found');
      assert.equal((await request(bob, { type: 'react', id: '1-0', emoji: '👍' })).code, 'not_found');
      const bad = await request(bob, { type: 'react', id, emoji: 'thumbs up' });
      assert.equal(bad.code, 'bad_frame', 'a reaction is one emoji');
      assert.equal((await request(bob, { type: 'react', id, emoji: '👍👍' })).code, 'bad_frame');
      // Still connected and allowed to do what is theirs to do.
      assert.equal((await request(bob, { type: 'react', id, emoji: '👍' })).type, 'ack');
      assert.equal((await latest(app, room))[0].text, 'mine');
      ann.close();
      bob.close();
    });

    test('a deletion leaves a tombstone without text, everywhere', async () => {
      const room = `delete_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const secret = `a secret ${nextId()}`;
      const id = await postV1(ann, secret);
      await request(ann, { type: 'edit', id, text: `${secret} (edited)` });
      await request(bob, { type: 'react', id, emoji: '🎉' });
      const ack = await request(ann, { type: 'delete', id });
      assert.equal(ack.type, 'ack');
      const deleted = await nextOfType(bob, 'delete');
      assert.deepEqual(deleted, { type: 'delete', id, eventId: ack.id });
      const [tombstone] = await latest(app, room);
      assert.equal(tombstone.id, id);
      assert.equal(tombstone.deleted, true);
      assert.equal(tombstone.text, undefined);
      assert.equal(tombstone.reactions, undefined);
      assert.equal((await request(ann, { type: 'edit', id, text: 'back' })).code, 'not_found');
      assert.equal((await request(bob, { type: 'react', id, emoji: '👍' })).code, 'not_found');
      if (redis !== undefined) {
        // Nothing in the room's keys holds the text any more (the log, the state hashes).
        const direct = new Redis(redis.url);
        const keys = roomKeys(room);
        const dump = JSON.stringify([
          await direct.xrange(keys.log, '-', '+'),
          await direct.hgetall(keys.texts),
          await direct.hgetall(keys.edited),
          await direct.hgetall(keys.reactions),
        ]);
        await direct.quit();
        assert.ok(!dump.includes('a secret'), `the deleted text is gone from Redis: ${dump}`);
        assert.ok(dump.includes(id), 'the message’s place is still in the log');
      }
      ann.close();
      bob.close();
    });

    test('reactions: one per person and emoji, the whole summary each time, and bounded', async () => {
      const room = `react_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: bob, welcome: bobWelcome } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const id = await postV1(ann, 'react to me');
      await request(ann, { type: 'react', id, emoji: '👍' });
      await nextOfType(ann, 'reactions'); // her own, like everyone's
      let summary = await nextOfType(bob, 'reactions');
      assert.deepEqual(summary.reactions, [{ emoji: '👍', count: 1, userIds: [annId(ann, bobWelcome)] }]);
      const before = await request(bob, { type: 'react', id, emoji: '👍' });
      summary = await nextOfType(ann, 'reactions');
      assert.equal(summary.eventId, before.id);
      assert.deepEqual(
        summary.reactions.map((r: any) => [r.emoji, r.count]),
        [['👍', 2]],
      );
      // The same reaction again changes nothing: acked, no new frame, no new entry.
      const again = await request(bob, { type: 'react', id, emoji: '👍' });
      assert.equal(again.type, 'ack');
      await request(bob, { type: 'unreact', id, emoji: '👍' });
      summary = await nextOfType(ann, 'reactions');
      assert.deepEqual(
        summary.reactions.map((r: any) => [r.emoji, r.count]),
        [['👍', 1]],
      );
      // Twenty distinct emoji at most.
      const emoji = [
        '😀',
        '😃',
        '😄',
        '😁',
        '😆',
        '😅',
        '🤣',
        '😂',
        '🙂',
        '🙃',
        '😉',
        '😊',
        '😇',
        '🥰',
        '😍',
        '🤩',
        '😘',
        '😗',
        '😚',
      ];
      for (const e of emoji) assert.equal((await request(ann, { type: 'react', id, emoji: e })).type, 'ack');
      const refused = await request(ann, { type: 'react', id, emoji: '😙' });
      assert.equal(refused.code, 'too_many_reactions');
      const [message] = await latest(app, room);
      assert.equal(message.reactions.length, 20);
      assert.deepEqual(message.reactions[0], { emoji: '👍', count: 1, userIds: [annId(ann, bobWelcome)] });
      ann.close();
      bob.close();
    });

    test('a reply quotes the start of its original, until the original is deleted', async () => {
      const room = `reply_${engine}`;
      const { client: ann, welcome } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const long = `${'é'.repeat(150)}`;
      const original = await postV1(ann, long);
      bob.send({ type: 'message', text: 'agreed', clientMsgId: 'r1', replyTo: original });
      // (Ann's own message may still be ahead of the reply in her queue.)
      let reply = await nextOfType(ann, 'message');
      if (reply.id === original) reply = await nextOfType(ann, 'message');
      assert.deepEqual(reply.replyTo, { id: original, user: personOf(welcome), excerpt: 'é'.repeat(100) });
      assert.equal((await request(bob, { type: 'message', text: 'to nothing', replyTo: '1-0' })).code, 'not_found');
      await request(ann, { type: 'delete', id: original });
      const page = await latest(app, room);
      const stored = page.find((m: any) => m.id === reply.id);
      assert.deepEqual(stored.replyTo, { id: original, user: personOf(welcome) }, 'no excerpt of a deleted message');
      assert.equal((await request(bob, { type: 'message', text: 'late', replyTo: original })).code, 'not_found');
      ann.close();
      bob.close();
    });

    test('a reconnect with since gets the changes made while away, in the welcome', async () => {
      const room = `since_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const first = await postV1(ann, 'first');
      const second = await postV1(ann, 'second');
      // Bob saw both, then went away.
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      bob.close();
      await request(ann, { type: 'edit', id: first, text: 'first, edited' });
      await request(ann, { type: 'react', id: first, emoji: '👀' });
      await request(ann, { type: 'delete', id: second });
      const third = await postV1(ann, 'third');
      const edited = await request(ann, { type: 'edit', id: third, text: 'third, edited' });
      const { client: back, welcome } = await connectV1(app.wsUrl, room, { name: 'Bob', since: second });
      assert.equal(welcome.recovered, true);
      assert.deepEqual(
        welcome.history.map((m: any) => [m.id, m.text]),
        [[third, 'third, edited']],
        'a message of the stretch shows its latest state',
      );
      assert.deepEqual(
        welcome.changes.map((c: any) => [c.type, c.id]),
        [
          ['edit', first],
          ['reactions', first],
          ['delete', second],
        ],
      );
      assert.equal(welcome.changes[0].text, 'first, edited');
      // Reconnecting from the newest change leaves nothing to replay.
      const { client: again, welcome: none } = await connectV1(app.wsUrl, room, { name: 'Bob', since: edited.id });
      assert.deepEqual([none.history, none.changes ?? []], [[], []]);
      for (const client of [ann, back, again]) client.close();
    });

    test('resending a change with its clientMsgId applies it once; another change under it is refused', async () => {
      const room = `retry_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const id = await postV1(ann, 'retry me');
      const first = await request(ann, { type: 'edit', id, text: 'once' }, 'edit-1');
      const second = await request(ann, { type: 'edit', id, text: 'once' }, 'edit-1');
      assert.equal(second.id, first.id);
      const reused = await request(ann, { type: 'edit', id, text: 'twice' }, 'edit-1');
      assert.equal(reused.code, 'client_msg_id_reused');
      assert.equal((await latest(app, room))[0].text, 'once');
      ann.close();
    });

    test('reference clients get new messages only, never changes', async () => {
      const room = `reference_${engine}`;
      const reference = await TestClient.connect(`${app.wsUrl}/ws/chat/${room}/`);
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const id = await postV1(ann, 'plain');
      assert.deepEqual(await reference.next(), { message: 'plain' });
      await request(ann, { type: 'edit', id, text: 'plainer' });
      await request(ann, { type: 'react', id, emoji: '👍' });
      await request(ann, { type: 'delete', id });
      await postV1(ann, 'next');
      assert.deepEqual(await reference.next(), { message: 'next' }, 'the changes were skipped');
      reference.close();
      ann.close();
    });
  });
}

/** Ann's user id, from a welcome Bob got after Ann joined (its member list). */
function annId(_ann: TestClient, bobWelcome: any): string {
  return bobWelcome.members.find((m: any) => m.name === 'Ann').id;
}

describe('message changes: limits and retention', () => {
  for (const engine of ['memory', 'redis'] as const) {
    test(`${engine}: the edit window closes; reactions in all are bounded; trimming drops a message’s state`, async (t) => {
      const redis = engine === 'redis' ? await TestRedis.start() : undefined;
      t.after(() => redis?.stop());
      const app = await startApp(t, {
        REDIS_URL: redis?.url,
        EDIT_WINDOW_SECONDS: '1',
        REACTIONS_PER_MESSAGE_MAX: '2',
        HISTORY_LENGTH: '4',
      });
      const room = `bounds_${engine}`;
      const { client: ann } = await connectV1(app.wsUrl, room, { name: 'Ann' });
      const { client: bob } = await connectV1(app.wsUrl, room, { name: 'Bob' });
      const id = await postV1(ann, 'soon fixed in stone');
      await request(ann, { type: 'react', id, emoji: '👍' });
      await request(bob, { type: 'react', id, emoji: '👍' });
      assert.equal((await request(bob, { type: 'react', id, emoji: '🎉' })).code, 'too_many_reactions');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await request(ann, { type: 'edit', id, text: 'too late' })).code, 'edit_window_closed');
      // The log holds 4 entries: the message, two reactions and the next message; the one after
      // pushes the first message out, and its reactions with it.
      const second = await postV1(ann, 'second');
      const third = await postV1(ann, 'third');
      const page = await latest(app, room);
      assert.deepEqual(
        page.map((m: any) => m.id),
        [second, third],
      );
      assert.equal((await request(bob, { type: 'react', id, emoji: '👍' })).code, 'not_found');
      if (redis !== undefined) {
        const direct = new Redis(redis.url);
        const keys = roomKeys(room);
        const state = [
          (await direct.hkeys(keys.texts)).sort(),
          await direct.hkeys(keys.edited),
          await direct.hkeys(keys.reactions),
        ];
        await direct.quit();
        assert.deepEqual(state, [[second, third].sort(), [], []], 'only the retained messages have state');
      }
      ann.close();
      bob.close();
    });
  }
});

test('changes count as messages: a reaction flood hits the message rate like a message flood', async (t) => {
  const app = await startApp(t, { ...DEFAULT_LIMITS });
  const { client } = await connectV1(app.wsUrl, 'flood', { name: 'Ann' });
  const id = await postV1(client, 'flood me');
  // 40 changes at once: the burst of a connection is 20 (RATE_BURST_PER_CONNECTION).
  for (let i = 0; i < 40; i++) {
    client.send({ type: i % 2 === 0 ? 'react' : 'unreact', id, emoji: '👍', clientMsgId: `f${i}` });
  }
  const answers = new Map<string, string>();
  while (answers.size < 40) {
    const frame = await client.next(5000);
    if (frame.type === 'ack') answers.set(frame.clientMsgId, 'ack');
    if (frame.type === 'error') answers.set(frame.clientMsgId, frame.code);
  }
  const limited = [...answers.values()].filter((answer) => answer === 'rate_limited').length;
  assert.ok(limited >= 15 && limited <= 21, `${limited} of 40 refused with rate_limited`);
  assert.equal([...answers.values()].filter((answer) => answer === 'ack').length, 40 - limited);
  client.close();
});

describe('message changes across two instances (redis engine)', () => {
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  before(async () => {
    ({ a, b, stop } = await startTwoInstances(undefined));
  });
  after(() => stop());

  test('an edit on A reaches B; concurrent reactions from both end in one summary everywhere', async () => {
    const room = 'two_instances';
    const { client: ann } = await connectV1(a.wsUrl, room, { name: 'Ann' });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    const id = await postV1(ann, 'across');
    await nextOfType(bob, 'message');
    await request(ann, { type: 'edit', id, text: 'across, edited' });
    assert.equal((await nextOfType(bob, 'edit')).text, 'across, edited');

    // Ten people on each instance react at once.
    const people = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connectV1(i % 2 === 0 ? a.wsUrl : b.wsUrl, room, { name: `P${i}` })),
    );
    await Promise.all(
      people.map(({ client }, i) => request(client, { type: 'react', id, emoji: i % 3 === 0 ? '👍' : '❤️' })),
    );
    // The last reactions frame each side sees is the final summary; both read the same from history.
    const fromA = await json(await fetch(`${a.httpUrl}/api/rooms/${room}/messages`));
    const fromB = await json(await fetch(`${b.httpUrl}/api/rooms/${room}/messages`));
    const summary = fromA.messages[0].reactions;
    assert.deepEqual(fromB.messages[0].reactions, summary);
    assert.deepEqual(
      summary.map((r: any) => [r.emoji, r.count]).sort(),
      [
        ['❤️', 13],
        ['👍', 7],
      ].sort(),
    );
    const lastFrameOf = async (client: TestClient) => {
      let last: any;
      for (;;) {
        try {
          const frame = await client.next(500);
          if (frame.type === 'reactions') last = frame;
        } catch {
          return last;
        }
      }
    };
    assert.deepEqual((await lastFrameOf(ann)).reactions, summary);
    assert.deepEqual((await lastFrameOf(bob)).reactions, summary);
    for (const { client } of [...people, { client: ann }, { client: bob }]) client.close();
  });
});
