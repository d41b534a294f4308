// Attacks on rooms and stored data: throwaway room visits, messages spread over many rooms, a
// history flood past the memory budget, and one address's daily quota. Default limits (except
// where a test makes a bound small enough to reach), neighbours on another address.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { MemoryEngine } from '../../src/engine/memory-engine.ts';
import { DEFAULT_LIMITS, startApp, type RunningApp } from '../helpers/app.ts';
import { Neighbour } from '../helpers/neighbour.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { startTwoInstances } from '../helpers/two-instances.ts';
import { connectV1, json, postV1, sendV1 } from '../helpers/ws-client.ts';

for (const engine of ['memory', 'redis'] as const) {
  describe(`rooms and storage, ${engine} engine`, () => {
    async function start(
      t: Parameters<typeof startApp>[0],
      env: Record<string, string> = {},
    ): Promise<{ running: RunningApp; redis?: Redis }> {
      let redisUrl: string | undefined;
      let redis: Redis | undefined;
      if (engine === 'redis') {
        const server = await TestRedis.start();
        t?.after(() => server.stop());
        redisUrl = server.url;
        redis = new Redis(server.url);
        t?.after(() => redis!.quit());
      }
      const running = await startApp(t, { ...DEFAULT_LIMITS, REDIS_URL: redisUrl, ...env });
      return { running, redis };
    }

    test('a flood of throwaway room visits leaves nothing behind, and occupied rooms stay listed', async (t) => {
      const { running, redis } = await start(t);
      const neighbour = await Neighbour.join(running.wsUrl);
      neighbour.start();

      const seconds = 4;
      let visits = 0;
      let refused = 0;
      const until = Date.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: 4 }, async (_, loop) => {
          for (let i = 0; Date.now() < until; i++) {
            try {
              const { client } = await connectV1(running.wsUrl, `spam_${loop}_${i}_${'r'.repeat(60)}`);
              visits += 1;
              client.close();
            } catch {
              refused += 1;
              await new Promise((r) => setTimeout(r, 50));
            }
          }
        }),
      );
      await neighbour.stop();
      console.log(`  attacker: ${visits} rooms visited in ${seconds} s, ${refused} upgrades refused`);
      assert.ok(visits <= 20 + 10 * (seconds + 1), `${visits} visits: the connection rate bounds them`);
      assert.ok(refused > 0);

      // Once the visitors are gone, the only room with lasting state is the neighbours'.
      await new Promise((r) => setTimeout(r, 300));
      if (engine === 'memory') {
        assert.equal((running.app.engine as MemoryEngine).usage.rooms, 1, 'the memory engine holds one room');
      } else {
        const keys = await redis!.keys('parley:{*');
        assert.ok(
          keys.every((key) => key.startsWith('parley:{quiet_neighbours}')),
          `leftover keys: ${keys.filter((k) => !k.includes('quiet')).slice(0, 3)}`,
        );
        assert.deepEqual(await redis!.zrange('parley:rooms', '0', '-1'), ['quiet_neighbours']);
        assert.deepEqual(
          await redis!.zrange('parley:occupied', '0', '-1'),
          [],
          'the neighbours left, so no room is occupied',
        );
      }
    });

    test('messages into many rooms: the room index stays bounded and occupied rooms rank first', async (t) => {
      const { running, redis } = await start(t, { ROOM_INDEX_SIZE: '20' });
      // The neighbours' room: occupied, and its only message older than all the spam.
      const nina = await connectV1(running.wsUrl, 'quiet_neighbours', { name: 'Nina', localAddress: '127.0.0.2' });
      await postV1(nina.client, 'hello');

      let posted = 0;
      for (let i = 0; i < 60; i++) {
        const { client } = await connectV1(running.wsUrl, `spam_${i}`, {
          localAddress: `127.0.0.${10 + Math.floor(i / 15)}`,
        });
        await postV1(client, `spam ${i}`);
        posted += 1;
        client.close();
      }
      assert.equal(posted, 60);
      if (engine === 'memory') {
        assert.ok((running.app.engine as MemoryEngine).usage.indexed <= 20);
      } else {
        assert.ok((await redis!.zcard('parley:rooms')) <= 20, 'parley:rooms is trimmed to ROOM_INDEX_SIZE');
      }
      const list = await json(await fetch(`${running.httpUrl}/api/rooms`));
      assert.equal(list.rooms[0].room, 'quiet_neighbours', 'the occupied room comes first');
      assert.equal(list.rooms[0].members, 1);
      assert.ok(list.rooms.length <= 50);
      nina.client.close();
    });

    test("one address's daily quota: refused with quota_exceeded once used up, other addresses unaffected", async (t) => {
      const { running } = await start(t, { MESSAGES_PER_IP_PER_DAY: '30' });
      const neighbour = await Neighbour.join(running.wsUrl);
      // The neighbour's address has the same quota: slowly enough to stay under it however long
      // the test takes on a busy machine (every 150 ms, it once sent its 31st).
      neighbour.start(400);
      const { client } = await connectV1(running.wsUrl, 'quota');
      const codes: string[] = [];
      for (let i = 0; i < 40; i++) {
        const reply = await sendV1(client, `message ${i}`, `q${i}`);
        codes.push(reply.type === 'ack' ? 'ack' : reply.code);
        // Within the message rate: the quota is what refuses, not the rate limit.
        await new Promise((r) => setTimeout(r, 110));
      }
      await neighbour.stop(5);
      assert.deepEqual(codes.slice(0, 30), Array(30).fill('ack'));
      assert.deepEqual(codes.slice(30), Array(10).fill('quota_exceeded'));
      client.close();
    });
  });
}

test('redis engine: the daily quota is shared by instances, overshooting by at most one sync window', async (t) => {
  const { redis, a, b } = await startTwoInstances(t, {
    ...DEFAULT_LIMITS,
    MESSAGES_PER_IP_PER_DAY: '30',
    RATE_LIMIT_PER_CONNECTION: '0',
    RATE_LIMIT_PER_IP: '0',
  });
  const onA = await connectV1(a.wsUrl, 'quota_shared');
  for (let i = 0; i < 30; i++) await postV1(onA.client, `a ${i}`);
  assert.equal((await sendV1(onA.client, 'a over', 'a-over')).code, 'quota_exceeded');
  await a.app.limits.dailyQuota.sync();

  // B has not heard of this address yet: what it lets through before its own sync is the
  // overshoot; after it, B refuses too.
  const onB = await connectV1(b.wsUrl, 'quota_shared');
  assert.equal((await sendV1(onB.client, 'b 0', 'b0')).type, 'ack');
  await b.app.limits.dailyQuota.sync();
  const reply = await sendV1(onB.client, 'b 1', 'b1');
  assert.equal(reply.code, 'quota_exceeded', 'instance B refuses once it has the shared total');
  const redisClient = new Redis(redis.url);
  t.after(() => redisClient.quit());
  const [day] = new Date().toISOString().split('T');
  assert.equal(
    Number(await redisClient.hget(`parley:quota:${day}`, '127.0.0.1')),
    31,
    'the shared total counts both instances',
  );
  assert.ok((await redisClient.ttl(`parley:quota:${day}`)) > 24 * 3600, "the day's counts expire");
  onA.client.close();
  onB.client.close();
});

test('memory engine: a history flood past the budget forgets the rooms idle longest, never the budget', async (t) => {
  const budget = 1024 * 1024;
  const running = await startApp(t, {
    ...DEFAULT_LIMITS,
    MEMORY_HISTORY_BUDGET_BYTES: String(budget),
    HISTORY_LENGTH: '100',
  });
  const engine = running.app.engine as MemoryEngine;
  const neighbour = await Neighbour.join(running.wsUrl);
  neighbour.start();
  const text = 'y'.repeat(4000);
  const firstIds: string[] = [];
  // 30 rooms of 10 messages of 4 KB, from 10 addresses (each within its allowance).
  for (let room = 0; room < 30; room++) {
    const { client } = await connectV1(running.wsUrl, `flood_${room}`, { localAddress: `127.0.0.${10 + (room % 10)}` });
    for (let i = 0; i < 10; i++) {
      const id = await postV1(client, text);
      if (i === 0) firstIds.push(id);
    }
    client.close();
    assert.ok(engine.usage.bytes <= budget, `after room ${room}: ${engine.usage.bytes} bytes held`);
  }
  await neighbour.stop(1);
  console.log(`  memory engine: ${engine.usage.rooms} rooms, ${engine.usage.bytes} bytes held (budget ${budget})`);
  // The oldest rooms were forgotten: a reconnect there is told it cannot be recovered.
  const old = await connectV1(running.wsUrl, 'flood_0', { since: firstIds[0] });
  assert.equal(old.welcome.recovered, false);
  assert.equal(old.welcome.history.length, 0);
  // The newest room is whole.
  const recent = await connectV1(running.wsUrl, 'flood_29', { since: '0-0' });
  assert.equal(recent.welcome.recovered, true);
  assert.equal(recent.welcome.history.length, 10);
  // The neighbours' room is occupied and keeps its place in the list.
  old.client.close();
  recent.client.close();
});
