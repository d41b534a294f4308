import { test } from 'node:test';
import { Redis } from 'ioredis';
import assert from 'node:assert/strict';
import { startTwoInstancesOnCluster } from '../helpers/two-instances.ts';
import { connectV1, nextOfType, requestUntilAcked, requestV1 } from '../helpers/ws-client.ts';
import { roomKeys } from '../../src/engine/redis-keys.ts';

/**
 * REDIS_WAIT_REPLICAS=1 with the room's replica frozen: a message or change its replica has not
 * confirmed is answered `unavailable`, is not published and is not read (a failover could still take it back,
 * and a client holding it would then have a `since` the new primary does not know). Resent once
 * the replica is back, it is acked and delivered, once.
 *
 * The freeze outlasts the cluster's node timeout (1 s): the cluster marks the replica failed and
 * the instances set their subscriber connections up again, then read the log back; that read
 * stops at the newest confirmed entry, so it does not deliver the unconfirmed ones either.
 */
test(
  'an entry the replicas have not confirmed is neither published nor read; resent once they have, it is delivered once',
  { timeout: 120_000 },
  async (t) => {
    const { cluster, a, b } = await startTwoInstancesOnCluster(t, {
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '100',
    });

    const room = 'unconfirmed';
    const replica = await cluster.replicaOf(await cluster.primaryOf(await cluster.roomSlot(room)));

    const sender = (await connectV1(a.wsUrl, room, { name: 'Sender' })).client;
    const reader = (await connectV1(b.wsUrl, room, { name: 'Reader' })).client;
    t.after(() => {
      sender.close();
      reader.close();
    });
    const first = (await requestUntilAcked(sender, { type: 'message', text: 'confirmed' }, 'u0')).id;
    assert.equal((await nextOfType(reader, 'message')).id, first);

    // A message and a reaction while the replica is frozen: refused, and not published.
    cluster.pause(replica);
    try {
      const message = await requestV1(sender, { type: 'message', text: 'held back' }, 'u1');
      assert.equal(message.type, 'error');
      assert.equal(message.code, 'unavailable');
      const reaction = await requestV1(sender, { type: 'react', id: first, emoji: '👍' }, 'u2');
      assert.equal(reaction.code, 'unavailable');
      await reader.expectSilence(2000);
      // Nor does a newcomer's welcome show them.
      const newcomer = await connectV1(b.wsUrl, room, { name: 'Newcomer' });
      newcomer.client.close();
      assert.deepEqual(
        newcomer.welcome.history.map((m: any) => m.text),
        ['confirmed'],
      );
    } finally {
      cluster.resume(replica);
    }

    // Resent with the same clientMsgIds once the replica caught up: acked (stored once) and
    // delivered now, in log order.
    const message = await requestUntilAcked(sender, { type: 'message', text: 'held back' }, 'u1');
    assert.equal(message.type, 'ack');
    const delivered = await nextOfType(reader, 'message', 5000);
    assert.equal(delivered.text, 'held back');
    assert.equal(delivered.id, message.id);

    const reaction = await requestUntilAcked(sender, { type: 'react', id: first, emoji: '👍' }, 'u2');
    assert.equal(reaction.type, 'ack');
    const reactions = await nextOfType(reader, 'reactions', 5000);
    assert.deepEqual(
      reactions.reactions.map((r: any) => [r.emoji, r.count]),
      [['👍', 1]],
    );
    await reader.expectSilence(500);

    // A late joiner's history holds each once.
    const late = await connectV1(b.wsUrl, room, { name: 'Late' });
    t.after(() => late.client.close());
    assert.deepEqual(
      late.welcome.history.map((m: any) => m.text),
      ['confirmed', 'held back'],
    );

    // By the time of an ack, the replica also has the mark that readers may see the entry: a
    // failover right after the ack leaves the message visible to newcomers (were the mark only on
    // the primary, the new primary's welcomes would stop at the entry before it).
    const onReplica = new Redis(replica, '127.0.0.1');
    t.after(() => onReplica.disconnect());
    await onReplica.call('READONLY');
    for (let i = 0; i < 20; i++) {
      const ack = await requestUntilAcked(sender, { type: 'message', text: `marked ${i}` }, `m${i}`);
      assert.equal(ack.type, 'ack');
      assert.equal(await onReplica.get(roomKeys(room).confirmed), ack.id, `message ${i}`);
    }
  },
);
