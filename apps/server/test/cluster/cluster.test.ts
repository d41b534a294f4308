import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { RunningApp } from '../helpers/app.ts';
import { roomsOnEveryPrimary, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { startTwoInstancesOnCluster } from '../helpers/two-instances.ts';
import { connectV1, nextOfType, postV1, type TestClient } from '../helpers/ws-client.ts';

/**
 * Parley on a real Redis Cluster (six local redis-server processes: three primaries, three
 * replicas): two instances, rooms on every primary, sharded pub/sub.
 */

/** Reads message frames until `count` arrived; returns their texts. */
async function texts(client: TestClient, count: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < count) {
    const frame = await client.next(10_000);
    if (frame.type === 'message') out.push(frame.text);
  }
  return out;
}

describe('two instances on a Redis Cluster', { timeout: 300_000 }, () => {
  let cluster: TestRedisCluster;
  let a: RunningApp;
  let b: RunningApp;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    ({ cluster, a, b, stop } = await startTwoInstancesOnCluster(undefined));
  });
  after(() => stop?.());

  test('rooms on every primary deliver across instances, in one order, with presence and since-recovery', async () => {
    const rooms = await roomsOnEveryPrimary(cluster, 'shard_');
    for (const room of rooms.values()) {
      const { client: ann, welcome: annWelcome } = await connectV1(a.wsUrl, room, { name: 'Ann' });
      const { client: bob, welcome: bobWelcome } = await connectV1(b.wsUrl, room, { name: 'Bob' });
      assert.deepEqual(
        bobWelcome.members.map((m: any) => m.name).sort(),
        ['Ann', 'Bob'],
        `${room}: presence is shared`,
      );
      assert.equal((await nextOfType(ann, 'join')).user.id, bobWelcome.you.id);
      const sent = Array.from({ length: 20 }, (_, i) => `${room} m${i}`);
      const ids: string[] = [];
      for (const text of sent) ids.push(await postV1(ann, text));
      assert.deepEqual(await texts(bob, sent.length), sent, `${room}: B gets A's messages in order`);
      // Bob leaves, Ann goes on, Bob comes back with the last id he had.
      bob.close();
      await postV1(ann, `${room} while away`);
      const { client: back, welcome } = await connectV1(b.wsUrl, room, { name: 'Bob', since: ids.at(-1)! });
      assert.equal(welcome.recovered, true);
      assert.deepEqual(
        welcome.history.map((m: any) => m.text),
        [`${room} while away`],
      );
      assert.ok(annWelcome.token);
      ann.close();
      back.close();
    }
  });

  test('the room list and the daily quota work across slots', async () => {
    const response = await fetch(`${a.httpUrl}/api/rooms`);
    assert.equal(response.status, 200);
    const { rooms } = (await response.json()) as { rooms: Array<{ room: string }> };
    assert.ok(
      rooms.some((r) => r.room.startsWith('shard_')),
      'rooms with messages are listed',
    );
  });

  test('the sharded subscriber connections killed while messages flow: back-fill, no gap, no duplicate', async () => {
    const rooms = [...(await roomsOnEveryPrimary(cluster, 'killed_')).values()];
    const pairs = await Promise.all(
      rooms.map(async (room) => ({
        room,
        sender: (await connectV1(a.wsUrl, room, { name: 'Sender' })).client,
        reader: (await connectV1(b.wsUrl, room, { name: 'Reader' })).client,
      })),
    );
    const total = 60;
    const sending = (async () => {
      for (let n = 0; n < total; n++) {
        for (const { room, sender } of pairs)
          sender.send({ type: 'message', text: `${room} ${n}`, clientMsgId: `k${n}` });
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (n === 20 || n === 40) {
          // Every node's pub/sub connections (both instances' sharded subscribers).
          for (const node of cluster.nodes) {
            const admin = new Redis(node.port, '127.0.0.1');
            await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub').catch(() => {});
            admin.disconnect();
          }
        }
      }
    })();
    const received = await Promise.all(pairs.map(({ reader }) => texts(reader, total)));
    await sending;
    pairs.forEach(({ room }, i) => {
      assert.deepEqual(
        received[i],
        Array.from({ length: total }, (_, n) => `${room} ${n}`),
        `${room}: every message once, in order`,
      );
    });
    assert.ok(a.app.stats.backfills + b.app.stats.backfills > 0, 'the instances read the logs back');
    for (const { sender, reader } of pairs) {
      sender.close();
      reader.close();
    }
  });
});
