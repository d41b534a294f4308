import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../helpers/app.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { startTwoInstances } from '../helpers/two-instances.ts';
import { connectV1, nextOfType, sendV1 } from '../helpers/ws-client.ts';

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Redis stops and comes back: degraded, unavailable sends, then everything works and nothing acked is lost', async (t) => {
  const { redis, a, b } = await startTwoInstances(t, {}, { persistent: true });

  const alice = await connectV1(a.wsUrl, 'outage', { name: 'Alice' });
  const bob = await connectV1(b.wsUrl, 'outage', { name: 'Bob' });
  const acked: string[] = [];
  for (let i = 0; i < 3; i++) {
    const reply = await sendV1(alice.client, `before ${i}`, `before${i}`);
    assert.equal(reply.type, 'ack');
    acked.push(reply.id);
  }

  await redis.kill();
  const notice = await nextOfType(alice.client, 'status', 8000);
  assert.equal(notice.degraded, true, 'clients are told the room is degraded');
  assert.equal((await fetch(`${a.httpUrl}/readyz`)).status, 503);
  assert.equal((await fetch(`${a.httpUrl}/healthz`)).status, 200, 'the server stays up');

  const refused = await sendV1(alice.client, 'during the outage', 'during');
  assert.equal(refused.type, 'error');
  assert.equal(refused.code, 'unavailable', 'never a silent drop');
  assert.equal(a.app.engine.kind, 'redis');

  await redis.restart();
  const back = await nextOfType(alice.client, 'status', 10_000);
  assert.equal(back.degraded, false);
  await waitFor(async () => (await fetch(`${b.httpUrl}/readyz`)).status === 200, 10_000, 'instance B ready');

  // The refused message succeeds when resent, and reaches the other instance's clients.
  const resent = await sendV1(alice.client, 'during the outage', 'during');
  assert.equal(resent.type, 'ack');
  acked.push(resent.id);
  const delivered = await nextOfType(bob.client, 'message', 8000);
  // Bob may first see the backlog from before the outage; skip to the resent one.
  let frame = delivered;
  while (frame.id !== resent.id) frame = await nextOfType(bob.client, 'message', 8000);
  assert.equal(frame.text, 'during the outage');

  // Nothing acked is lost: a newcomer's history holds every acked message.
  const late = await connectV1(b.wsUrl, 'outage', { name: 'Late' });
  const history = late.welcome.history.map((m: any) => m.id);
  for (const id of acked) assert.ok(history.includes(id), `acked ${id} is in the history`);
  for (const c of [alice.client, bob.client, late.client]) c.close();
});

test('the Redis command queue stays bounded during an outage: sends fail fast instead of piling up', async (t) => {
  const redis = await TestRedis.start();
  t.after(() => redis.stop());
  const app = await startApp(t, { REDIS_URL: redis.url });
  const { client } = await connectV1(app.wsUrl, 'bounded', { name: 'B' });
  await redis.kill();
  await nextOfType(client, 'status', 8000);
  const started = Date.now();
  for (let i = 0; i < 200; i++) client.send({ type: 'message', text: `x${i}`, clientMsgId: `q${i}` });
  let refused = 0;
  while (refused < 200) {
    const frame = await client.next(8000);
    if (frame.type === 'error' && frame.code === 'unavailable') refused++;
  }
  // Every one was answered while Redis was still down (nothing was queued for later).
  assert.equal(refused, 200);
  assert.ok(Date.now() - started < 8000);
  client.close();
});

test('Redis comes back empty (no persistence): a since from before is not called recovered, and 0-0 still is', async (t) => {
  const { redis, a } = await startTwoInstances(t, {}, { persistent: false });
  const room = 'wiped';
  const alice = await connectV1(a.wsUrl, room, { name: 'Alice' });
  let last = '';
  for (let i = 0; i < 3; i++) {
    const reply = await sendV1(alice.client, `before ${i}`, `w${i}`);
    assert.equal(reply.type, 'ack');
    last = reply.id;
  }
  // Before the loss, that since is recovered (the control).
  const before = await connectV1(a.wsUrl, room, { name: 'Early', since: last });
  assert.equal(before.welcome.recovered, true);
  for (const c of [alice.client, before.client]) c.close();

  await redis.kill();
  await redis.restart();
  await waitFor(async () => (await fetch(`${a.httpUrl}/readyz`)).status === 200, 10_000, 'instance A ready');
  // A new message begins the room's log again (posted through the engine: connected sockets may
  // be asked to resync meanwhile, which is the point, but not what this test waits for).
  const posted = await a.app.engine.post({ room, user: { id: 'u_carolcarolca', name: 'Carol' }, text: 'after' });
  assert.equal(posted.outcome, 'stored');

  // The three acked messages are gone: a client holding the last of them has missed them, for
  // all the server can tell, and must not be told it missed nothing.
  const returning = await connectV1(a.wsUrl, room, { name: 'Returning', since: last });
  assert.equal(returning.welcome.recovered, false, 'a since from before the log began again is not recovered');
  assert.deepEqual(
    returning.welcome.history.map((m: any) => m.text),
    ['after'],
  );
  // "I have seen nothing" is still answered from the start of what the log holds.
  const fresh = await connectV1(a.wsUrl, room, { name: 'Fresh', since: '0-0' });
  assert.equal(fresh.welcome.recovered, true);
  assert.deepEqual(
    fresh.welcome.history.map((m: any) => m.text),
    ['after'],
  );
  for (const c of [returning.client, fresh.client]) c.close();
});
