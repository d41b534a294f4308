// Attacks with frames: invalid JSON, oversized texts, a flood of valid frames over the frame
// rate, frames sent before the welcome, and a typing flood through many tabs of one person.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_LIMITS, startApp } from '../helpers/app.ts';
import { Neighbour } from '../helpers/neighbour.ts';
import WebSocket from 'ws';
import { connectV1, nextOfType, TestClient } from '../helpers/ws-client.ts';

async function floodUntilClosed(
  client: TestClient,
  frame: () => string,
  max = 5000,
): Promise<{ sent: number; code: number; reason: string }> {
  let sent = 0;
  while (client.closeEvent === undefined && sent < max) {
    client.socket.send(frame());
    sent += 1;
    if (sent % 20 === 0) await new Promise((r) => setImmediate(r));
  }
  const closed = await client.waitClose(5000);
  return { sent, ...closed };
}

test('invalid frames: a connection that keeps sending them is closed with 1008, and an address that keeps doing it must wait; the neighbours chat on', async (t) => {
  const { wsUrl, app } = await startApp(t, { ...DEFAULT_LIMITS });
  const neighbour = await Neighbour.join(wsUrl);
  neighbour.start();
  const cases: Array<[string, () => string]> = [
    ['bad JSON', () => '{"type":'],
    ['unknown frames', () => '{"type":"nonsense"}'],
    ['oversized texts', () => JSON.stringify({ type: 'message', text: 'z'.repeat(16_000), clientMsgId: 'big' })],
  ];
  for (const [what, frame] of cases) {
    const { client } = await connectV1(wsUrl, 'attack');
    const errors: string[] = [];
    client.socket.on('message', (data) => errors.push(JSON.parse(data.toString()).code));
    const result = await floodUntilClosed(client, frame);
    console.log(
      `  ${what}: closed with ${result.code} after ${result.sent} frames sent, ${errors.length} error frames`,
    );
    assert.equal(result.code, 1008, what);
    assert.match(result.reason, /invalid frames/);
    // At most INVALID_FRAMES_MAX + 1 were answered: the rest were never parsed.
    assert.ok(errors.filter((c) => c !== undefined).length <= 11, `${errors.length} errors`);
  }
  // Three such closes in a minute: the address may not connect for ABUSE_COOLDOWN_SECONDS.
  const refused = await new Promise<{ status?: number; retryAfter?: string }>((resolve) => {
    const socket = new WebSocket(`${wsUrl}/ws/chat/attack/`);
    socket.once('unexpected-response', (_req, res) =>
      resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'] }),
    );
    socket.once('open', () => resolve({ status: 101 }));
  });
  assert.equal(refused.status, 429, 'the address is cooling down');
  assert.ok(Number(refused.retryAfter) > 50, `Retry-After: ${refused.retryAfter}`);
  // A reference-protocol client (from another address) is held to the same rule.
  const classic = await TestClient.connect(`${wsUrl}/ws/chat/attack/`, { localAddress: '127.0.0.3' });
  const classicResult = await floodUntilClosed(classic, () => 'not json');
  assert.equal(classicResult.code, 1008);
  await neighbour.stop(1);
  assert.ok(app.stats.policyCloses >= 4);
});

test('valid frames over the frame rate are dropped, and a connection that keeps going is closed (1008)', async (t) => {
  const { wsUrl, app } = await startApp(t, { ...DEFAULT_LIMITS });
  const neighbour = await Neighbour.join(wsUrl);
  neighbour.start();
  const { client } = await connectV1(wsUrl, 'attack');
  const result = await floodUntilClosed(client, () => '{"type":"typing"}');
  console.log(
    `  typing flood: closed with ${result.code} after ${result.sent} frames; ${app.stats.framesDropped} dropped`,
  );
  assert.equal(result.code, 1008);
  assert.match(result.reason, /over the rate limit/);
  // The burst (40) passed; past it, at most FRAME_BURST_PER_CONNECTION more were dropped before the close.
  assert.ok(app.stats.framesDropped <= 41 + 5, `${app.stats.framesDropped} dropped`);

  // Many connections of one address share its frame budget (200/s, burst 400).
  const sockets = await Promise.all(Array.from({ length: 20 }, () => connectV1(wsUrl, 'attack')));
  const framesBefore = app.stats.framesIn;
  const droppedBefore = app.stats.framesDropped;
  const started = Date.now();
  for (let round = 0; round < 3; round++) {
    for (const { client: c } of sockets)
      for (let i = 0; i < 30; i++) if (c.closeEvent === undefined) c.socket.send('{"type":"typing"}');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
  const elapsed = (Date.now() - started) / 1000;
  const dropped = app.stats.framesDropped - droppedBefore;
  const letThrough = app.stats.framesIn - framesBefore - dropped;
  console.log(
    `  20 connections, 1,800 frames in ${elapsed.toFixed(1)} s: ${letThrough} let through, ${dropped} dropped`,
  );
  assert.ok(letThrough <= 400 + 200 * elapsed, `${letThrough} frames let through`);
  await neighbour.stop(1);
  for (const { client: c } of sockets) c.socket.terminate();
});

test('a typing flood through many tabs of one person reaches the room at most once a second', async (t) => {
  const { wsUrl } = await startApp(t, { ...DEFAULT_LIMITS });
  const watcher = await connectV1(wsUrl, 'typing_room', { name: 'Watcher', localAddress: '127.0.0.2' });
  const first = await connectV1(wsUrl, 'typing_room', { name: 'Typist' });
  const tabs = [
    first,
    ...(await Promise.all(
      Array.from({ length: 19 }, () => connectV1(wsUrl, 'typing_room', { name: 'Typist', token: first.welcome.token })),
    )),
  ];
  let typing = 0;
  watcher.client.socket.on('message', (data) => {
    if (JSON.parse(data.toString()).type === 'typing') typing += 1;
  });
  const seconds = 3;
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    for (const tab of tabs) tab.client.send({ type: 'typing' });
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 200));
  console.log(`  20 tabs typing for ${seconds} s: the watcher got ${typing} typing frames`);
  assert.ok(typing >= 1 && typing <= seconds + 1, `${typing} typing frames`);
  await nextOfType(watcher.client, 'join', 100).catch(() => undefined);
  for (const tab of [...tabs, watcher]) tab.client.close();
});
