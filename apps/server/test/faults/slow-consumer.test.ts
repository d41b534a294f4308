import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from '../helpers/app.ts';
import { TestClient } from '../helpers/ws-client.ts';

test('a client that stops reading is cut off at its send-buffer limit; the others keep full speed', async (t) => {
  const { app, wsUrl } = await startApp(t, { SEND_BUFFER_LIMIT_BYTES: '65536' });
  const url = `${wsUrl}/ws/chat/firehose/`;
  const sleeper = await TestClient.connect(url);
  const reader = await TestClient.connect(url);
  const sender = await TestClient.connect(url);
  // Stop reading from the socket: the kernel buffers fill, then the server's send buffer grows.
  (sleeper.socket as any)._socket.pause();

  // Send in rounds until the server gives up on the sleeper. How much that takes depends on the
  // kernel's socket buffers (loopback buffers grow to several MiB, more with large writes), so
  // the test does not assume a size; it stops at 40 MiB.
  const padding = 'p'.repeat(1000);
  const latencies: number[] = [];
  let received = 0;
  let sent = 0;
  reader.socket.on('message', (data) => {
    const { message } = JSON.parse(data.toString());
    latencies.push(Date.now() - Number(message.split(' ')[0]));
    received += 1;
  });
  while (app.stats.slowConsumerCloses === 0 && sent < 40_000) {
    for (let i = 0; i < 200; i++, sent++) sender.send({ message: `${Date.now()} ${padding}` });
    await new Promise((r) => setTimeout(r, 5));
  }
  const total = sent;
  // Reading again, the sleeper gets its backlog and then the close frame: the server cuts a
  // client that still reads nothing a moment after closing it (then it would see no 4008).
  (sleeper.socket as any)._socket.resume();
  for (let waited = 0; received < total && waited < 20_000; waited += 20) await new Promise((r) => setTimeout(r, 20));

  const closed = await sleeper.waitClose(10_000);
  assert.equal(closed.code, 4008);
  assert.match(closed.reason, /send buffer/);
  assert.equal(app.stats.slowConsumerCloses, 1);

  latencies.sort((a, b) => a - b);
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  console.log(`reader: ${received} messages, p50 ${latencies[Math.floor(latencies.length / 2)]} ms, p99 ${p99} ms`);
  assert.equal(received, total, 'the reader got every message');
  // A generous bound: the point is that the stalled client does not stall the room.
  assert.ok(p99 < 2000, `reader p99 ${p99} ms`);
  reader.close();
  sender.close();
});
