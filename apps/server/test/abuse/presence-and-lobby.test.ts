// A join/leave flood into a room with people in it, and the lobby list under 200,000 rooms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { MemoryEngine } from '../../src/engine/memory-engine.ts';
import { DEFAULT_LIMITS, startApp } from '../helpers/app.ts';
import { Neighbour } from '../helpers/neighbour.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { connectV1, json, postV1 } from '../helpers/ws-client.ts';

test("a join/leave flood: new identities coming and going reach the room's members at the connection rate, no faster", async (t) => {
  const { wsUrl } = await startApp(t, { ...DEFAULT_LIMITS });
  const neighbour = await Neighbour.join(wsUrl, 'busy');
  neighbour.start();
  const watcher = await connectV1(wsUrl, 'busy', { name: 'Watcher', localAddress: '127.0.0.2' });
  let presence = 0;
  watcher.client.socket.on('message', (data) => {
    const type = JSON.parse(data.toString()).type;
    if (type === 'join' || type === 'leave') presence += 1;
  });
  const seconds = 4;
  let cycles = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      for (let i = 0; Date.now() < until; i++) {
        try {
          const { client } = await connectV1(wsUrl, 'busy', { name: `Spam ${i}` });
          cycles += 1;
          client.socket.terminate();
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    }),
  );
  await new Promise((r) => setTimeout(r, 300));
  await neighbour.stop();
  console.log(`  attacker: ${cycles} joins and leaves in ${seconds} s; the watcher got ${presence} presence frames`);
  const allowed = 20 + 10 * (seconds + 1);
  assert.ok(cycles <= allowed, `${cycles} cycles`);
  assert.ok(presence <= 2 * allowed, `${presence} presence frames`);
  watcher.client.close();
});

test('the lobby under 200,000 rooms (memory engine): a bounded index, occupied rooms first, built about once a second', async (t) => {
  const running = await startApp(t, { ...DEFAULT_LIMITS });
  const engine = running.app.engine as MemoryEngine;
  // The neighbours' room: occupied, its message older than all the others.
  const nina = await connectV1(running.wsUrl, 'quiet_neighbours', { name: 'Nina', localAddress: '127.0.0.2' });
  await postV1(nina.client, 'hello');
  const user = { id: 'u_spammerspamm', name: 'Spam' };
  for (let i = 0; i < 200_000; i++) await engine.post({ room: `r${i}`, user, text: 'x' });
  const usage = engine.usage;
  console.log(
    `  memory engine: ${usage.rooms} rooms, ${(usage.bytes / 1048576).toFixed(0)} MiB of history held, ${usage.indexed} indexed`,
  );
  assert.ok(usage.indexed <= 10_000, 'the active-room index keeps ROOM_INDEX_SIZE rooms');
  assert.ok(usage.bytes <= 256 * 1024 * 1024, 'all history within MEMORY_HISTORY_BUDGET_BYTES');

  let builds = 0;
  const activeRooms = engine.activeRooms.bind(engine);
  engine.activeRooms = (limit) => {
    builds += 1;
    return activeRooms(limit);
  };
  const lists = await Promise.all(Array.from({ length: 50 }, () => fetch(`${running.httpUrl}/api/rooms`).then(json)));
  assert.equal(builds, 1, '50 simultaneous requests: the list is built once');
  for (const list of lists) {
    assert.equal(list.rooms[0].room, 'quiet_neighbours', 'the occupied room comes first');
    assert.equal(list.rooms.length, 50);
  }
  nina.client.close();
});

test('the lobby over 200,000 rooms left in Redis by an older release: a few commands, no round trip per room, then the index is trimmed', async (t) => {
  const redisServer = await TestRedis.start();
  t.after(() => redisServer.stop());
  const redis = new Redis(redisServer.url);
  t.after(() => redis.quit());
  const now = Date.now();
  // The index as the previous release left it: every room ever visited, with no bound.
  for (let batch = 0; batch < 200; batch++) {
    const args: Array<string | number> = [];
    for (let i = batch * 1000; i < (batch + 1) * 1000; i++) args.push(now - 200_000 + i, `old_${i}`);
    await redis.zadd('parley:rooms', ...args);
  }
  const running = await startApp(t, { ...DEFAULT_LIMITS, REDIS_URL: redisServer.url });
  const nina = await connectV1(running.wsUrl, 'quiet_neighbours', { name: 'Nina', localAddress: '127.0.0.2' });
  await new Promise((r) => setTimeout(r, 100));

  const commands = async () => {
    const info = await redis.info('commandstats');
    return [...info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)].reduce(
      (sum, m) => sum + (m[1] === 'info' ? 0 : Number(m[2])),
      0,
    );
  };
  const before = await commands();
  const lists = await Promise.all(Array.from({ length: 20 }, () => fetch(`${running.httpUrl}/api/rooms`).then(json)));
  const used = (await commands()) - before;
  console.log(`  20 GET /api/rooms over 200,000 indexed rooms: ${used} Redis commands in all`);
  // One build: a MULTI of two trims, two range reads, then one count per occupied room.
  assert.ok(used <= 12, `${used} Redis commands`);
  assert.equal(lists[0].rooms[0].room, 'quiet_neighbours');
  assert.equal(lists[0].rooms[0].members, 1);

  // The next message anywhere trims the index to ROOM_INDEX_SIZE.
  await postV1(nina.client, 'hello');
  await new Promise((r) => setTimeout(r, 200));
  assert.ok((await redis.zcard('parley:rooms')) <= 10_000, 'the index is trimmed to ROOM_INDEX_SIZE');
  nina.client.close();
});
