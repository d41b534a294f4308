import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareMessageIds } from '@parley/protocol';
import { startTwoInstances } from '../helpers/two-instances.ts';
import { connectV1, json, postV1 } from '../helpers/ws-client.ts';

test('subscriber connections killed while reactions and edits flow: the other instance ends in the same state, in order', async (t) => {
  const { redis, a, b } = await startTwoInstances(t);
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());

  const room = 'changes_gap';
  const sender = await connectV1(a.wsUrl, room, { name: 'Sender' });
  const reader = await connectV1(b.wsUrl, room, { name: 'Reader' });
  const targets: string[] = [];
  for (let i = 0; i < 10; i++) targets.push(await postV1(sender.client, `target ${i}`));

  // 200 changes: reactions on and off, and edits, spread over the ten messages.
  const total = 200;
  const emoji = ['👍', '🎉', '👀'];
  const acks: string[] = [];
  const sending = (async () => {
    for (let i = 0; i < total; i++) {
      const id = targets[i % targets.length]!;
      const frame =
        i % 5 === 4
          ? { type: 'edit', id, text: `target ${i % targets.length}, edit ${i}` }
          : { type: Math.floor(i / 10) % 2 === 0 ? 'react' : 'unreact', id, emoji: emoji[i % 3] };
      sender.client.send({ ...frame, clientMsgId: `c${i}` });
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (i === 60 || i === 130) await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    }
  })();
  const collectAcks = (async () => {
    while (acks.length < total) {
      const frame = await sender.client.next(10_000);
      if (frame.type === 'ack') acks.push(frame.id);
      if (frame.type === 'error') assert.fail(`a change was refused: ${JSON.stringify(frame)}`);
    }
  })();
  await Promise.all([sending, collectAcks]);
  const lastAck = acks.reduce((max, id) => (compareMessageIds(id, max) > 0 ? id : max));

  // The reader applies what it gets, as a client does, until it has seen the last change.
  const state = new Map<string, { text: string; reactions: unknown[] }>();
  targets.forEach((id, i) => state.set(id, { text: `target ${i}`, reactions: [] }));
  let seen = '0-0';
  while (compareMessageIds(seen, lastAck) < 0) {
    const frame = await reader.client.next(10_000);
    if (frame.type !== 'edit' && frame.type !== 'reactions') continue;
    assert.ok(
      compareMessageIds(frame.eventId, seen) > 0,
      `changes arrive once, in order (${frame.eventId} after ${seen})`,
    );
    seen = frame.eventId;
    const entry = state.get(frame.id)!;
    if (frame.type === 'edit') entry.text = frame.text;
    else entry.reactions = frame.reactions;
  }
  const page = await json(await fetch(`${b.httpUrl}/api/rooms/${room}/messages`));
  for (const message of page.messages) {
    const mine = state.get(message.id)!;
    assert.deepEqual(mine.reactions, message.reactions ?? [], `reactions of ${message.id}`);
    assert.equal(mine.text, message.text, `text of ${message.id}`);
  }
  assert.ok(b.app.stats.backfills > 0, 'instance B read the log back after losing its subscription');
  console.log(
    `read back from the log: ${b.app.stats.backfilledMessages} entries on B, ${a.app.stats.backfilledMessages} on A`,
  );
  sender.client.close();
  reader.client.close();
});
