import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startApp } from '../helpers/app.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { connectV1, type TestClient } from '../helpers/ws-client.ts';
import { roomKeys } from '../../src/engine/redis-keys.ts';

/**
 * A room's read-back (after its pub/sub connection was lost) that finds the log behind what the
 * room already delivered, as a restarted cluster primary answering for its old slots empty for a
 * moment does in a failover: the hub tries again rather than closing every socket with 4009 at
 * once; only a log that stays behind (it really lost what was delivered) makes everyone resync.
 */
async function roomWithTwoMessages(t: import('node:test').TestContext) {
  const redis = await TestRedis.start();
  t.after(() => redis.stop());
  const app = await startApp(t, { REDIS_URL: redis.url });
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());
  const { client } = await connectV1(app.wsUrl, 'behind', { name: 'Reader' });
  for (const n of [1, 2]) {
    client.send({ type: 'message', text: `m${n}`, clientMsgId: `c${n}` });
    await nextOfType(client, 'message');
  }
  return { app, admin, client, log: roomKeys('behind').log };
}

async function nextOfType(client: TestClient, type: string, timeoutMs = 5000) {
  for (;;) {
    const frame = await client.next(timeoutMs);
    if (frame.type === type) return frame;
  }
}

/**
 * For `ms`, the client is not closed (4009 would end the socket) and gets nothing but the bus's
 * status notices.
 */
async function expectOnlyStatusFor(client: TestClient, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const frame = await client.next(deadline - Date.now()).catch((err: Error) => {
      if (/closed/.test(err.message)) throw err;
      return undefined; // the wait ran out: nothing more came
    });
    if (frame !== undefined) assert.equal(frame.type, 'status', `only status notices, got ${JSON.stringify(frame)}`);
  }
}

test('a log missing for a moment during a read-back: the room waits for it, nobody is asked to resync', async (t) => {
  const { app, admin, client, log } = await roomWithTwoMessages(t);
  const backfillsBefore = app.app.stats.backfills;

  await admin.rename(log, `${log}:away`);
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'); // the hub reads back once resubscribed
  await new Promise((resolve) => setTimeout(resolve, 600));
  await admin.rename(`${log}:away`, log);

  await expectOnlyStatusFor(client, 2500);
  client.send({ type: 'message', text: 'm3', clientMsgId: 'c3' });
  assert.equal((await nextOfType(client, 'message')).text, 'm3');
  assert.ok(app.app.stats.backfills > backfillsBefore, 'the read-back ran (and found the log again)');
  client.close();
});

test('a log that stays behind what was delivered: after its retries the room asks everyone to resync (4009)', async (t) => {
  const { admin, client, log } = await roomWithTwoMessages(t);

  await admin.del(log);
  await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
  const closed = await client.waitClose(20_000);
  assert.equal(closed.code, 4009, 'messages lost: reconnect with since');
});

test('read-backs started in quick succession (reconnect after reconnect) do not use up the wait for a missing log', async (t) => {
  const { app, admin, client, log } = await roomWithTwoMessages(t);
  const retriesBefore = app.app.stats.backfillRetries;

  await admin.rename(log, `${log}:away`);
  // Each lost pub/sub connection starts a read-back once resubscribed: eight in under a second
  // and a half, each finding the log behind.
  for (let i = 0; i < 8; i++) {
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const readBacks = app.app.stats.backfillRetries - retriesBefore;
  await new Promise((resolve) => setTimeout(resolve, 500));
  await admin.rename(`${log}:away`, log);

  await expectOnlyStatusFor(client, 2500);
  console.log(`  ${readBacks} read-backs found the log behind before it came back`);
  assert.ok(readBacks > 5, `more read-backs than the old count of retries (${readBacks})`);
  client.send({ type: 'message', text: 'm3', clientMsgId: 'c3' });
  assert.equal((await nextOfType(client, 'message')).text, 'm3');
  client.close();
});
