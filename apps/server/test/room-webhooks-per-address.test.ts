import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../src/config.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { NEIGHBOUR_ADDRESS } from './helpers/neighbour.ts';
import { TestReceiver } from './helpers/receiver.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { connectV1, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * Rooms' webhooks have a share per client address (ROOM_WEBHOOKS_PER_ADDRESS), of the server's
 * total (MAX_ROOM_WEBHOOKS): the bounds audit had one address open rooms, post once in each and
 * set a webhook there until it held every one of the server's, so that an owner on another
 * address got `too_many_webhooks` for as long as those rooms lived. Real app, real sockets (the
 * other owner on another loopback address, another address key), on both engines.
 */

const ALLOW = { ROOM_WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_TIMEOUT_MS: '300', WEBHOOK_RETRY_BASE_MS: '20' };
/** Where the Redis engine keeps who set each room's webhook (redis-keys.ts). */
const SETTERS_KEY = 'parley:room-webhook-setters';

let requests = 0;

/** Sends a `webhook` frame and returns the answer about it: the owner's `webhook` frame or an `error`. */
async function webhook(client: TestClient, frame: Record<string, unknown> = {}): Promise<any> {
  const clientMsgId = `pa${requests++}`;
  client.send({ type: 'webhook', ...frame, clientMsgId });
  for (;;) {
    const reply = await client.next(5000);
    if ((reply.type === 'webhook' || reply.type === 'error') && reply.clientMsgId === clientMsgId) return reply;
  }
}

/** Opens a room owned by `name`, from `localAddress` (the first to post owns a room). */
async function ownRoom(app: RunningApp, room: string, name: string, localAddress?: string): Promise<TestClient> {
  const { client } = await connectV1(app.wsUrl, room, { name, ...(localAddress ? { localAddress } : {}) });
  await postV1(client, 'mine now');
  return client;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`ROOM_WEBHOOKS_PER_ADDRESS over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let receiver: TestReceiver;
    let app: RunningApp;
    before(async () => {
      receiver = await TestReceiver.start();
      if (engine === 'redis') redis = await TestRedis.start();
      app = await startApp(undefined, { ...ALLOW, REDIS_URL: redis?.url, ROOM_WEBHOOKS_PER_ADDRESS: '2' });
    });
    after(async () => {
      await app.app.close();
      await receiver.close();
      await redis?.stop();
    });

    test('one address sets two rooms’ webhooks, the third is refused; changes to its own still go; another address still sets one; removing one makes room', async () => {
      const rooms = [1, 2, 3].map((i) => `per_address_${engine}_${i}`);
      const owners: TestClient[] = [];
      for (const room of rooms) owners.push(await ownRoom(app, room, 'Olga'));
      const [first, second, third] = owners as [TestClient, TestClient, TestClient];
      const nina = await ownRoom(app, `per_address_${engine}_next_door`, 'Nina', NEIGHBOUR_ADDRESS);

      assert.equal((await webhook(first, { url: `${receiver.url}/1` })).type, 'webhook');
      assert.equal((await webhook(second, { url: `${receiver.url}/2` })).type, 'webhook');
      const refused = await webhook(third, { url: `${receiver.url}/3` });
      assert.equal(refused.type, 'error', JSON.stringify(refused));
      assert.equal(refused.code, 'too_many_webhooks');
      assert.match(refused.message, /address/, 'the message says it is the address’s share');
      assert.equal((await webhook(third)).webhook, null, 'nothing was set');

      // Its own webhooks are no new ones: other events, a new URL.
      const events = await webhook(first, { events: ['message', 'join'] });
      assert.equal(events.type, 'webhook', JSON.stringify(events));
      assert.deepEqual(events.webhook.events, ['message', 'join']);
      const moved = await webhook(second, { url: `${receiver.url}/2-again` });
      assert.equal(moved.type, 'webhook', JSON.stringify(moved));
      assert.equal(moved.webhook.url, `${receiver.url}/2-again`);

      // Another address has a share of its own.
      const next = await webhook(nina, { url: `${receiver.url}/next-door` });
      assert.equal(next.type, 'webhook', JSON.stringify(next));

      if (redis !== undefined) {
        const check = new Redis(redis.url);
        try {
          const setters = await check.hgetall(SETTERS_KEY);
          assert.deepEqual(Object.keys(setters).sort(), [rooms[0], rooms[1], `per_address_${engine}_next_door`].sort());
          assert.equal(setters[rooms[0]!], setters[rooms[1]!]);
          assert.notEqual(setters[rooms[0]!], setters[`per_address_${engine}_next_door`]);
        } finally {
          check.disconnect();
        }
      }

      // One of the first address's removed: its third room may have one now.
      assert.equal((await webhook(first, { url: null })).webhook, null);
      const third2 = await webhook(third, { url: `${receiver.url}/3` });
      assert.equal(third2.type, 'webhook', JSON.stringify(third2));
      // And it holds two again: the room whose webhook it removed may not have one back.
      const again = await webhook(first, { url: `${receiver.url}/1` });
      assert.equal(again.code, 'too_many_webhooks', JSON.stringify(again));

      if (redis !== undefined) {
        const check = new Redis(redis.url);
        try {
          const setters = await check.hgetall(SETTERS_KEY);
          assert.deepEqual(Object.keys(setters).sort(), [rooms[1], rooms[2], `per_address_${engine}_next_door`].sort());
          // The second room's state expires (its moderation hash, webhook included, goes): its
          // entry no longer counts, and is dropped when the address's webhooks are counted.
          await check.del(`parley:{${rooms[1]}}:moderation`);
          const back = await webhook(first, { url: `${receiver.url}/1` });
          assert.equal(back.type, 'webhook', JSON.stringify(back));
          assert.deepEqual(
            Object.keys(await check.hgetall(SETTERS_KEY)).sort(),
            [rooms[0], rooms[2], `per_address_${engine}_next_door`].sort(),
          );
        } finally {
          check.disconnect();
        }
      }
      for (const client of [...owners, nina]) client.close();
    });
  });
}

describe('ROOM_WEBHOOKS_PER_ADDRESS', () => {
  test('is 5 by default, 0 turns the share off, and it is bounded', () => {
    assert.equal(loadConfig({}).roomWebhooksPerAddress, 5);
    assert.equal(loadConfig({ ROOM_WEBHOOKS_PER_ADDRESS: '0' }).roomWebhooksPerAddress, 0);
    assert.equal(loadConfig({ ROOM_WEBHOOKS_PER_ADDRESS: '20' }).roomWebhooksPerAddress, 20);
    for (const bad of ['-1', 'many', '1.5', '2000000'])
      assert.throws(
        () => loadConfig({ ROOM_WEBHOOKS_PER_ADDRESS: bad }),
        (err: unknown) => err instanceof ConfigError && /ROOM_WEBHOOKS_PER_ADDRESS/.test(err.message),
        bad,
      );
  });

  test('0: one address may set as many as the server keeps', async (t) => {
    const receiver = await TestReceiver.start();
    t.after(() => receiver.close());
    const app = await startApp(t, { ...ALLOW, ROOM_WEBHOOKS_PER_ADDRESS: '0', MAX_ROOM_WEBHOOKS: '3' });
    const owners: TestClient[] = [];
    for (const i of [1, 2, 3, 4]) owners.push(await ownRoom(app, `per_address_off_${i}`, 'Olga'));
    for (const owner of owners.slice(0, 3)) assert.equal((await webhook(owner, { url: receiver.url })).type, 'webhook');
    const refused = await webhook(owners[3]!, { url: receiver.url });
    assert.equal(refused.code, 'too_many_webhooks');
    assert.doesNotMatch(refused.message, /address/, 'the server’s total, not the address’s share');
    for (const owner of owners) owner.close();
  });
});
