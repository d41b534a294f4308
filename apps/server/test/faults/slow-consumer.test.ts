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

  const total = 4000;
  const padding = 'p'.repeat(1000);
  const latencies: number[] = [];
  let received = 0;
  const done = new Promise<void>((resolve) => {
    reader.socket.on('message', (data) => {
      const { message } = JSON.parse(data.toString());
      latencies.push(Date.now() - Number(message.split(' ')[0]));
      if (++received === total) resolve();
    });
  });
  for (let i = 0; i < total; i++) {
    sender.send({ message: `${Date.now()} ${padding}` });
    if (i % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  await done;

  (sleeper.socket as any)._socket.resume();
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
