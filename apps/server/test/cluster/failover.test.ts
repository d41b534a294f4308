import { test } from 'node:test';
import assert from 'node:assert/strict';
import { roomsOnEveryPrimary } from '../helpers/redis-cluster.ts';
import { startTwoInstancesOnCluster } from '../helpers/two-instances.ts';
import { connectV1, sendUntilAcked } from '../helpers/ws-client.ts';

/**
 * A primary of the cluster killed (SIGKILL) while two instances exchange messages in rooms on
 * every shard: its replica takes over; sends meanwhile are refused with `unavailable` and
 * succeed when resent; every acked message reaches every reader exactly once, in order.
 * REDIS_WAIT_REPLICAS=1: an ack means a replica has the message, so the failover cannot lose it
 * (and a shard without a replica in sync refuses sends until it has one again).
 */
test(
  'a primary killed under traffic: nothing acked is lost, nothing is duplicated, sends resume',
  { timeout: 180_000 },
  async (t) => {
    const { cluster, a, b } = await startTwoInstancesOnCluster(t, { REDIS_WAIT_REPLICAS: '1' });

    // A room on each primary.
    const rooms = await roomsOnEveryPrimary(cluster, 'fo_');
    const victim = [...rooms.keys()][0]!;

    const pairs = await Promise.all(
      [...rooms.values()].map(async (room) => ({
        room,
        sender: (await connectV1(a.wsUrl, room, { name: 'Sender' })).client,
        reader: (await connectV1(b.wsUrl, room, { name: 'Reader' })).client,
      })),
    );

    const total = 40;
    let refused = 0;
    const sending = pairs.map(async ({ room, sender }) => {
      for (let n = 0; n < total; n++) {
        refused += await sendUntilAcked(sender, `${room} ${n}`, `f${n}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    // Kill the primary of the first room while messages flow. Its replica takes over; with
    // REDIS_WAIT_REPLICAS=1 that shard refuses sends until it has a replica again, so the killed
    // node is started again (as an orchestrator would), and rejoins as the new primary's replica.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await cluster.kill(victim);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await cluster.restart(victim);
    await Promise.all(sending);

    const received = await Promise.all(
      pairs.map(async ({ reader }) => {
        const texts: string[] = [];
        while (texts.length < total) {
          const frame = await reader.next(20_000);
          if (frame.type === 'message') texts.push(frame.text);
        }
        await reader.expectSilence(300);
        return texts;
      }),
    );
    pairs.forEach(({ room }, i) => {
      assert.deepEqual(
        received[i],
        Array.from({ length: total }, (_, n) => `${room} ${n}`),
        `${room}: every acked message once, in order`,
      );
    });
    console.log(`sends refused with unavailable during the failover (then resent): ${refused}`);
    for (const { sender, reader } of pairs) {
      sender.close();
      reader.close();
    }
  },
);
