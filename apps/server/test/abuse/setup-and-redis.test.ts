// A hung Redis (SIGSTOP: connections stay open, nothing answers) while clients keep coming and
// sending: sends are refused within the command timeout, set-ups end within their timeout,
// frames sent before a welcome that never comes are capped, and nothing acked is lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Neighbour } from '../helpers/neighbour.ts';
import { clientFrame, closedBy, rawUpgrade } from '../helpers/raw-socket.ts';
import { TestRedis } from '../helpers/redis-server.ts';
import { ServerProcess } from '../helpers/server-process.ts';
import { connectV1, sendV1, TestClient } from '../helpers/ws-client.ts';

/** Stated bound: what 30 connections pushing 1 MB each before a welcome may add to the server's RSS. */
const RSS_GROWTH_LIMIT = 64 * 1024 * 1024;

test('Redis hangs: sends get unavailable within the command timeout, set-ups time out, pre-welcome floods are cut, nothing acked is lost', async (t) => {
  const redis = await TestRedis.start({ persistent: true });
  t.after(() => redis.stop());
  const server = await ServerProcess.start({
    REDIS_URL: redis.url,
    REDIS_COMMAND_TIMEOUT_MS: '1000',
    SETUP_TIMEOUT_MS: '2000',
    LOG_LEVEL: 'error',
  });
  t.after(() => server.stop());
  const alice = await connectV1(server.wsUrl, 'hung', { name: 'Alice' });
  const before = await sendV1(alice.client, 'before the hang', 'm-before');
  assert.equal(before.type, 'ack');

  redis.pause();
  try {
    // A send while Redis hangs is answered, not left hanging.
    const started = Date.now();
    const refused = await sendV1(alice.client, 'during the hang', 'm-during', 8000);
    console.log(`  a send during the hang was answered with ${refused.code} after ${Date.now() - started} ms`);
    assert.equal(refused.type, 'error');
    assert.equal(refused.code, 'unavailable');
    assert.match(refused.message, /may not have been sent/);

    // A newcomer whose set-up cannot finish is told so and closed (1013) within SETUP_TIMEOUT_MS.
    const waiting = await TestClient.connect(`${server.wsUrl}/ws/chat/other/?name=Bob`, { protocols: ['parley.v1'] });
    const error = await waiting.next(8000);
    assert.equal(error.code, 'unavailable');
    assert.equal((await waiting.waitClose(8000)).code, 1013);

    // Newcomers pushing frames before their welcome: cut off at SETUP_FRAMES_MAX (1008), and
    // the server's memory stays bounded.
    const rssBefore = server.rssBytes();
    let rssPeak = rssBefore;
    const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, server.rssBytes())), 50);
    t.after(() => clearInterval(sampler)); // also when an assertion below fails
    const flood = Buffer.concat(Array(64).fill(clientFrame(0x1, Buffer.from('{"type":"typing"}'.padEnd(15_000, ' ')))));
    const closes = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const attack = await rawUpgrade(server.port, `/ws/chat/flood_${i}/?name=Early`, {
          protocols: ['parley.v1'],
          after: flood,
        });
        const chunks = [attack.rest];
        attack.socket.on('data', (c: Buffer) => chunks.push(c));
        await closedBy(attack.socket);
        return { status: attack.status, bytes: Buffer.concat(chunks) };
      }),
    );
    clearInterval(sampler);
    // Each was closed with 1008 or, once the address had broken the rules ABUSE_CLOSES_MAX
    // times, refused before the upgrade (429: it must cool down; status 0 when the refusal was
    // lost to the reset of a connection still sending its megabyte).
    let policyCloses = 0;
    for (const { status, bytes } of closes) {
      if (status === 429 || status === 0) continue;
      assert.equal(status, 101);
      assert.ok(bytes.includes(Buffer.from([0x88])) && bytes.includes(Buffer.from([0x03, 0xf0])), 'closed with 1008');
      policyCloses += 1;
    }
    assert.ok(policyCloses >= 3, `${policyCloses} closed with 1008`);
    console.log(
      `  30 pre-welcome floods of 1 MB: ${policyCloses} closed with 1008, the others refused (429, cooling down); server RSS +${((rssPeak - rssBefore) / 1048576).toFixed(1)} MiB`,
    );
    assert.ok(rssPeak - rssBefore < RSS_GROWTH_LIMIT);
  } finally {
    redis.resume();
  }

  // Redis is back: the refused message, sent again with its clientMsgId, is stored once.
  let resent;
  for (let attempt = 0; attempt < 50; attempt++) {
    resent = await sendV1(alice.client, 'during the hang', 'm-during');
    if (resent.type === 'ack') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(resent.type, 'ack');
  const neighbour = await Neighbour.join(server.wsUrl);
  neighbour.start();
  await new Promise((r) => setTimeout(r, 1000));
  await neighbour.stop(3);
  const late = await connectV1(server.wsUrl, 'hung', { name: 'Late', since: '0-0', localAddress: '127.0.0.4' });
  const texts = late.welcome.history.map((m: any) => m.text);
  assert.deepEqual(texts, ['before the hang', 'during the hang'], 'both acked messages, once each');
  for (const c of [alice.client, late.client]) c.close();
});
