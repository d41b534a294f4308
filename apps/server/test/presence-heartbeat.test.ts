import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { REFRESH_CHUNK, REFRESH_IN_FLIGHT, RedisEngine } from '../src/engine/redis-engine.ts';
import { eventually } from './helpers/crowd.ts';
import { testEngineOptions, testLogger } from './helpers/engine-options.ts';
import { TestRedis } from './helpers/redis-server.ts';

/**
 * The Redis engine's presence heartbeat (RedisEngine.refreshPresence) in a big room, against a
 * real redis-server watched with MONITOR: a room's people are refreshed a chunk per script, and
 * no more than REFRESH_IN_FLIGHT of those scripts are sent ahead of a command issued after the
 * beat began. Redis runs one script at a time, so a message posted during a beat waits behind a
 * few chunks, not behind the whole room.
 */

/** Long enough that the engine's own heartbeat does not beat during the test: the beat is the test's. */
const PRESENCE_TTL_MS = 120_000;
const PEOPLE = 3000;

const options = testEngineOptions({ presenceTtlMs: PRESENCE_TTL_MS, commandTimeoutMs: 5000 });

let redis: TestRedis;
const log = testLogger();

before(async () => {
  redis = await TestRedis.start();
});
after(async () => {
  await redis.stop();
});

test(`a heartbeat sends at most ${REFRESH_IN_FLIGHT} refresh scripts ahead of a command issued after it began`, async (t) => {
  const engine = new RedisEngine({ url: redis.url }, options, log);
  let up = false;
  engine.setListener({
    event: () => {},
    availability: (available) => (up = available),
    expired: () => {},
    resubscribed: () => {},
  });
  await engine.connect();
  t.after(() => engine.close());
  await eventually(() => up, 'the engine is connected');

  const room = 'big_room';
  const chunks = Math.ceil(PEOPLE / REFRESH_CHUNK);
  assert.ok(chunks > REFRESH_IN_FLIGHT, 'more chunks than may be in flight, or the test shows nothing');
  for (let i = 0; i < PEOPLE; i += 500)
    await Promise.all(
      Array.from({ length: 500 }, (_, j) => engine.enter(room, { id: `u_${i + j}`, name: `Person ${i + j}` }, 0)),
    );

  // Every command Redis runs from now on, in the order it runs them.
  const client = new Redis(redis.url);
  const watcher = await client.monitor(); // (a connection of its own)
  t.after(() => {
    watcher.disconnect();
    client.disconnect();
  });
  const seen: string[][] = [];
  watcher.on('monitor', (_time: string, args: string[]) => seen.push(args));
  // The marker goes through the engine's own command connection (private: reached by a cast),
  // the one its scripts use: Redis runs a connection's commands in the order they were sent.
  const commands = (engine as unknown as { commands: Redis }).commands;
  await commands.ping('before-the-beat');
  await eventually(() => seen.some((args) => args[1] === 'before-the-beat'), 'MONITOR sees commands');
  seen.length = 0;

  const beat = engine.refreshPresence();
  // Issued right after the beat began (the beat sends what it may at once, before its first answer).
  await commands.ping('after-the-beat-began');
  await beat;
  // MONITOR's feed comes on its own connection: everything up to this marker has been seen once it has.
  await commands.ping('after-the-beat-ended');
  await eventually(() => seen.some((args) => args[1] === 'after-the-beat-ended'), 'MONITOR caught up');

  // A refresh script: EVALSHA/EVAL with the room's people as arguments (many more than any other script).
  const isRefresh = (args: string[]) => /^eval/i.test(args[0] ?? '') && args.length > 100;
  const markerAt = seen.findIndex((args) => args[0]?.toLowerCase() === 'ping' && args[1] === 'after-the-beat-began');
  assert.ok(markerAt >= 0, 'the marker ran');
  const refreshesBefore = seen.slice(0, markerAt).filter(isRefresh).length;
  const refreshes = seen.filter(isRefresh);
  const refreshed = refreshes.reduce((sum, args) => sum + (args.length - 14), 0);
  console.log(`  ${refreshes.length} refresh scripts for ${refreshed} people, ${refreshesBefore} ahead of the marker`);
  assert.equal(refreshes.length, chunks, `${PEOPLE} people in chunks of ${REFRESH_CHUNK}`);
  assert.equal(refreshed, PEOPLE, 'every person refreshed once');
  assert.ok(
    refreshesBefore <= REFRESH_IN_FLIGHT,
    `${refreshesBefore} refresh scripts ran ahead of a command sent after the beat began`,
  );
});
