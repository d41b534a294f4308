import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { compareMessageIds } from '@parley/protocol';
import { startTwoInstances } from '../helpers/two-instances.ts';
import { TestClient, connectV1, nextOfType, postV1 } from '../helpers/ws-client.ts';

test('subscriber connections killed while messages flow: every client still sees every message once, in order', async (t) => {
  const { redis, a, b } = await startTwoInstances(t);
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());

  const sender = await connectV1(a.wsUrl, 'gap', { name: 'Sender' });
  const readerB = await connectV1(b.wsUrl, 'gap', { name: 'ReaderB' });
  const classic = await TestClient.connect(`${b.wsUrl}/ws/chat/gap/`); // reference protocol too

  const total = 300;
  const acked: string[] = [];
  const sending = (async () => {
    for (let i = 0; i < total; i++) {
      sender.client.send({ type: 'message', text: `m${i}`, clientMsgId: `g${i}` });
      await new Promise((r) => setTimeout(r, 2));
      if (i === 100 || i === 200) {
        // Drop every pub/sub connection (both instances' subscribers) mid-stream.
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      }
    }
  })();

  const collect = async (client: TestClient, count: number) => {
    const ids: string[] = [];
    const texts: string[] = [];
    while (ids.length < count) {
      const frame = await client.next(10_000);
      if (frame.type === 'message') {
        ids.push(frame.id);
        texts.push(frame.text);
      } else if (frame.type === 'ack') acked.push(frame.id);
    }
    return { ids, texts };
  };
  const [onA, onB, onClassic] = await Promise.all([
    collect(sender.client, total),
    collect(readerB.client, total),
    (async () => {
      const texts: string[] = [];
      while (texts.length < total) texts.push((await classic.next(10_000)).message);
      return texts;
    })(),
  ]);
  await sending;

  const expected = Array.from({ length: total }, (_, i) => `m${i}`);
  assert.deepEqual(onB.texts, expected, 'instance B: no gap, no duplicate, in order');
  assert.deepEqual(onA.texts, expected, 'instance A: no gap, no duplicate, in order');
  assert.deepEqual(onClassic, expected, 'reference clients too');
  for (let i = 1; i < onB.ids.length; i++) assert.ok(compareMessageIds(onB.ids[i - 1]!, onB.ids[i]!) < 0);
  // The fault was real: pub/sub lost messages, and they came back from the log.
  assert.ok(b.app.stats.backfilledMessages > 0, 'instance B read missed messages back from the log');
  console.log(`recovered from the log: ${a.app.stats.backfilledMessages} on A, ${b.app.stats.backfilledMessages} on B`);
  for (const c of [sender.client, readerB.client, classic]) c.close();
});

test('a quiet room: what is posted while the bus is away reaches an instance that had delivered nothing in it yet', async (t) => {
  const { redis, a, b } = await startTwoInstances(t);
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());
  const room = 'gap_quiet';
  // Nobody has said anything since either instance subscribed: neither has a last delivered entry.
  const olga = await connectV1(a.wsUrl, room, { name: 'Olga' });
  const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
  const classic = await TestClient.connect(`${b.wsUrl}/ws/chat/${room}/`);
  t.after(() => {
    for (const c of [olga.client, bob.client, classic]) c.close();
  });
  await nextOfType(olga.client, 'join'); // Bob, so that A's next frames are ours

  // The subscribers drop; a message is stored (and published to nobody) before they are back.
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  const id = await postV1(olga.client, 'while the bus was away');

  // No later message comes to reveal a gap: the instances' read-backs on resubscribing bring it.
  const got = await nextOfType(bob.client, 'message', 10_000);
  assert.equal(got.id, id);
  assert.equal(got.text, 'while the bus was away');
  assert.equal((await classic.next(10_000)).message, 'while the bus was away');
  assert.ok(b.app.stats.backfilledMessages >= 1, 'instance B read it back from the log');
  // Once, and nothing before it (the room's log had nothing older to send again).
  await bob.client.expectSilence(300);
});
