import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ABANDONED_ROOMS_PER_SWEEP, RedisEngine } from '../src/engine/redis-engine.ts';
import { OCCUPIED_INDEX_KEY } from '../src/engine/redis-keys.ts';
import { eventually } from './helpers/crowd.ts';
import { testEngineOptions, testLogger } from './helpers/engine-options.ts';
import { TestRedis } from './helpers/redis-server.ts';

/**
 * The Redis engine's abandoned-room sweep (RedisEngine.sweepAbandonedRooms), against a real
 * redis-server: the rooms of an instance that died are swept a bounded batch per beat, and
 * beat after beat all of them. The engines are made directly, so the test runs the beats itself
 * and hears each leave the sweep reports.
 */

/**
 * Long enough that neither engine's own timers (heartbeat, sweep) beat during the test: the
 * beats are the test's, with a `now` past the expiry.
 */
const PRESENCE_TTL_MS = 60_000;

/** More rooms than two beats take, so it takes three. */
const ROOMS = 2 * ABANDONED_ROOMS_PER_SWEEP + 10;

const options = testEngineOptions({ presenceTtlMs: PRESENCE_TTL_MS });

let redis: TestRedis;
let direct: Redis;
const log = testLogger();

before(async () => {
  redis = await TestRedis.start();
  direct = new Redis(redis.url);
});
after(async () => {
  direct.disconnect();
  await redis.stop();
});

/** A connected engine, and the leaves its sweeps report (room → user ids, with the count after each). */
async function engineHearingLeaves(): Promise<{ engine: RedisEngine; left: Map<string, string[]> }> {
  const engine = new RedisEngine({ url: redis.url }, options, log);
  const left = new Map<string, string[]>();
  let up = false;
  engine.setListener({
    event: () => {},
    availability: (available) => (up = available),
    expired: (room, user, count) => left.set(room, [...(left.get(room) ?? []), `${user.id}:${count}`]),
    resubscribed: () => {},
  });
  await engine.connect();
  await eventually(() => up, 'the engine is connected');
  return { engine, left };
}

test(`the abandoned-room sweep takes ${ABANDONED_ROOMS_PER_SWEEP} rooms a beat at most, and all of them beat after beat`, async (t) => {
  // An instance with one person in each of the rooms, which then stops without a word: its
  // people stay listed, the rooms marked occupied, and nobody renews either.
  const { engine: doomed } = await engineHearingLeaves();
  const rooms = Array.from({ length: ROOMS }, (_, i) => `abandoned_${i}`);
  await Promise.all(rooms.map((room, i) => doomed.enter(room, { id: `u_${i}`, name: `Person ${i}` }, 0)));
  // (Its close stops the heartbeat and leaves the presence as it is, as a crash would; the
  // occupied marks it sends after each enter are written before the close's QUIT.)
  await doomed.close();
  assert.equal(await direct.zcard(OCCUPIED_INDEX_KEY), ROOMS);

  const { engine: sweeper, left } = await engineHearingLeaves();
  t.after(() => sweeper.close());
  // Beats as if the presence expiry had lapsed: each takes the bound at most, until none is left.
  const later = Date.now() + PRESENCE_TTL_MS + 1000;
  const beats: number[] = [];
  // (At most 10 beats: a sweep that stopped making progress fails below instead of hanging.)
  for (let swept = 0; swept < ROOMS && beats.length < 10;) {
    const beat = await sweeper.sweepAbandonedRooms(later);
    assert.ok(beat <= ABANDONED_ROOMS_PER_SWEEP, `one beat swept ${beat} rooms`);
    beats.push(beat);
    swept += beat;
    assert.equal(await direct.zcard(OCCUPIED_INDEX_KEY), ROOMS - swept, 'the rooms swept are no longer marked');
    assert.equal(left.size, swept, 'each room swept told of its one leave');
  }
  assert.deepEqual(beats, [ABANDONED_ROOMS_PER_SWEEP, ABANDONED_ROOMS_PER_SWEEP, 10]);
  assert.equal(await sweeper.sweepAbandonedRooms(later), 0, 'nothing left to sweep');
  // Every person left once, the room vacated after them.
  assert.deepEqual(Object.fromEntries(left), Object.fromEntries(rooms.map((room, i) => [room, [`u_${i}:0`]])));
});
