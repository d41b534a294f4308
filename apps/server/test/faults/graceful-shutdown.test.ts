import { UNLIMITED } from '../helpers/app.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerProcess } from '../helpers/server-process.ts';
import { TestClient, connectV1 } from '../helpers/ws-client.ts';

test('SIGTERM: in-flight messages are acked, sockets close in spread-out batches with 1012, new sockets are refused, exit 0 in time', async () => {
  const drainMs = 1500;
  const server = await ServerProcess.start({ DRAIN_MS: String(drainMs), SHUTDOWN_TIMEOUT_MS: '5000', ...UNLIMITED });
  const sender = await connectV1(server.wsUrl, 'deploy', { name: 'Sender' });
  const others: TestClient[] = [];
  for (let i = 0; i < 30; i++) others.push(await TestClient.connect(`${server.wsUrl}/ws/chat/deploy/`));

  // A message sent right before the signal is still acked.
  sender.client.send({ type: 'message', text: 'last words', clientMsgId: 'last' });
  const started = Date.now();
  const exited = server.stop('SIGTERM');

  const closedAt: number[] = [];
  const codes = await Promise.all(
    others.map(async (c) => {
      const event = await c.waitClose(10_000);
      closedAt.push(Date.now() - started);
      return event;
    }),
  );
  for (const { code, reason } of codes) {
    assert.equal(code, 1012, 'service restart: reconnect elsewhere');
    assert.match(reason, /reconnect/);
  }
  let acked = false;
  for (;;) {
    const frame = await sender.client.next(10_000).catch(() => undefined);
    if (frame === undefined) break;
    if (frame.type === 'ack' && frame.clientMsgId === 'last') acked = true;
  }
  assert.ok(acked, 'the in-flight message was acked before the close');
  assert.equal((await sender.client.waitClose()).code, 1012);

  // Closes were spread over the drain window, not all at once.
  closedAt.sort((a, b) => a - b);
  const spread = closedAt.at(-1)! - closedAt[0]!;
  assert.ok(spread >= drainMs / 3, `closes spread over ${spread} ms`);

  assert.equal(await exited, 0, 'clean exit');
  assert.ok(Date.now() - started < 5000 + 1000, 'within the shutdown deadline');
  await assert.rejects(TestClient.connect(`${server.wsUrl}/ws/chat/deploy/`));
});

test('while draining, /readyz is 503 and new sockets are refused', async () => {
  const server = await ServerProcess.start({ DRAIN_MS: '2000', SHUTDOWN_TIMEOUT_MS: '5000' });
  const holder = await TestClient.connect(`${server.wsUrl}/ws/chat/hold/`);
  const exited = server.stop('SIGTERM');
  // Give the signal a moment to start the drain (the socket keeps the drain busy for up to 2 s).
  await new Promise((r) => setTimeout(r, 150));
  const ready = await fetch(`${server.httpUrl}/readyz`).catch(() => undefined);
  if (ready !== undefined) {
    // Fastify answers every request with 503 once closing has begun, so load balancers stop routing here.
    assert.equal(ready.status, 503);
    await assert.rejects(
      TestClient.connect(`${server.wsUrl}/ws/chat/hold/`),
      /HTTP 503|ECONNREFUSED|ECONNRESET|socket hang up/,
    );
  }
  await holder.waitClose(5000);
  assert.equal(await exited, 0);
});
