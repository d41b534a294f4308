import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMessageIds } from '@parley/protocol';
import { startTwoInstancesOnCluster } from '../helpers/two-instances.ts';
import { connectV1, postV1, requestUntilAcked, requestV1, type TestClient } from '../helpers/ws-client.ts';

/** The delete events (after the log entry `after`) a client gets before a purge's moderation event, and that event. */
async function purgeSeenBy(client: TestClient, after: string) {
  const deleted: string[] = [];
  for (;;) {
    const frame = await client.next(10_000);
    if (frame.type === 'delete' && compareMessageIds(frame.eventId, after) > 0) deleted.push(frame.id);
    if (frame.type === 'moderation' && frame.action === 'purge') return { event: frame, deleted };
  }
}

/**
 * A purge with REDIS_WAIT_REPLICAS=1 on a cluster: the script leaves every frame (each deletion,
 * then the action) to the server, which publishes them once the replica confirmed them. With the
 * replica frozen the purge is `unavailable` and nothing goes out; resent, it is acked with the
 * same entry and everyone gets the deletions and the action once (the resend publishes the
 * action; the instances see the gap before it and read the deletions back from the log).
 */
test(
  'a purge in WAIT mode reaches everyone once, also when its first answer was unavailable',
  { timeout: 120_000 },
  async (t) => {
    const { cluster, a, b } = await startTwoInstancesOnCluster(t, {
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '100',
    });
    const room = 'purge_wait';
    const replica = await cluster.replicaOf(await cluster.primaryOf(await cluster.roomSlot(room)));

    const owner = await connectV1(a.wsUrl, room, { name: 'Olga' });
    assert.equal((await requestUntilAcked(owner.client, { type: 'message', text: 'mine' }, 'o1')).type, 'ack');
    const carl = await connectV1(b.wsUrl, room, { name: 'Carl' });
    const bob = await connectV1(b.wsUrl, room, { name: 'Bob' });
    t.after(() => {
      for (const client of [owner.client, carl.client, bob.client]) client.close();
    });
    const carlId = carl.welcome.you.id;
    const post = async (text: string, clientMsgId: string) =>
      (await requestUntilAcked(carl.client, { type: 'message', text }, clientMsgId)).id as string;

    const first = [await post('spam 1', 'c1'), await post('spam 2', 'c2')];
    const ack = await requestUntilAcked(owner.client, { type: 'moderate', action: 'purge', userId: carlId }, 'p1');
    assert.equal(ack.type, 'ack');
    const seen = await purgeSeenBy(bob.client, first[1]!);
    assert.deepEqual([seen.deleted, seen.event.count, seen.event.eventId], [[first[1], first[0]], 2, ack.id]);

    const second = [await post('spam 3', 'c3'), await post('spam 4', 'c4'), await post('spam 5', 'c5')];
    while ((await bob.client.next(5000)).id !== second[2]);
    cluster.pause(replica);
    try {
      const refused = await requestV1(owner.client, { type: 'moderate', action: 'purge', userId: carlId }, 'p2');
      assert.equal(refused.code, 'unavailable');
      await bob.client.expectSilence(500);
    } finally {
      cluster.resume(replica);
    }
    const resent = await requestUntilAcked(owner.client, { type: 'moderate', action: 'purge', userId: carlId }, 'p2');
    assert.equal(resent.type, 'ack');
    for (const client of [bob.client, carl.client]) {
      const again = await purgeSeenBy(client, ack.id);
      assert.deepEqual(
        [again.deleted, again.event.count, again.event.eventId],
        [[second[2], second[1], second[0]], 3, resent.id],
      );
    }
    // Once: a message after it is the next thing Bob gets.
    const marker = await postV1(owner.client, 'after the purges');
    assert.equal((await bob.client.next(5000)).id, marker);
  },
);
