import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { startApp } from '../helpers/app.ts';
import { TestClient, connectV1 } from '../helpers/ws-client.ts';

// Frames a careless or hostile client might send: text of any shape, JSON of any shape, frames
// that look almost right, and binary.
const anyFrame: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc
    .record(
      {
        type: fc.constantFrom('message', 'typing', 'welcome', 'ack', 'join', '__proto__', 'constructor', ''),
        text: fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.integer(),
          fc.constant(null),
          fc.array(fc.string()),
        ),
        clientMsgId: fc.oneof(fc.string({ maxLength: 80 }), fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.integer()),
        message: fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.integer(), fc.object()),
      },
      { requiredKeys: [] },
    )
    .map((v) => JSON.stringify(v)),
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
);

test('thousands of random frames: every connection survives, and the server still chats', async (t) => {
  // Off here: this test is about surviving any input. Closing a connection after repeated invalid
  // frames (1008) has its own test in the abuse suite.
  const { wsUrl, httpUrl } = await startApp(t, { INVALID_FRAMES_MAX: '0' });
  const modern = await connectV1(wsUrl, 'fuzz', { name: 'Fuzzer' });
  const classic = await TestClient.connect(`${wsUrl}/ws/chat/fuzz/`);
  let frames = 0;
  let sentinel = 0;

  await fc.assert(
    fc.asyncProperty(fc.array(anyFrame, { minLength: 10, maxLength: 40 }), async (batch) => {
      for (const frame of batch) {
        modern.client.socket.send(frame);
        classic.socket.send(frame);
        frames += 2;
      }
      // Both connections are still open and have handled everything before this point.
      const id = `sentinel${sentinel++}`;
      modern.client.send({ type: 'message', text: id, clientMsgId: id });
      classic.send({ message: id });
      let ackSeen = false;
      while (!ackSeen) {
        const frame = await modern.client.next(5000);
        if (frame.type === 'ack' && frame.clientMsgId === id) ackSeen = true;
      }
      while ((await classic.next(5000)).message !== id);
      return modern.client.closeEvent === undefined && classic.closeEvent === undefined;
    }),
    { numRuns: 200 },
  );
  console.log(`fuzz: ${frames} random frames sent over ${sentinel} batches`);
  assert.ok(frames >= 4000, `tried ${frames} frames`);

  assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200);
  const alice = await connectV1(wsUrl, 'after_fuzz', { name: 'Alice' });
  const bob = await connectV1(wsUrl, 'after_fuzz', { name: 'Bob' });
  alice.client.send({ type: 'message', text: 'still works', clientMsgId: 'ok1' });
  for (;;) {
    const frame = await bob.client.next();
    if (frame.type === 'message') {
      assert.equal(frame.text, 'still works');
      break;
    }
  }
  for (const c of [modern.client, classic, alice.client, bob.client]) c.close();
});

test('invalid UTF-8 in a text frame closes that socket (1007) and nobody else', async (t) => {
  const { wsUrl } = await startApp(t);
  const bystander = await TestClient.connect(`${wsUrl}/ws/chat/utf8/`);
  const offender = await TestClient.connect(`${wsUrl}/ws/chat/utf8/`);
  offender.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false });
  assert.equal((await offender.waitClose()).code, 1007);
  bystander.send({ message: 'fine' });
  assert.deepEqual(await bystander.next(), { message: 'fine' });
  bystander.close();
});

test('a huge display name or room name is refused with a reason, not a crash', async (t) => {
  const { wsUrl, httpUrl } = await startApp(t);
  const name = 'N'.repeat(5000);
  const client = await TestClient.connect(`${wsUrl}/ws/chat/lobby/?name=${name}`, { protocols: ['parley.v1'] });
  const frame = await client.next();
  assert.equal(frame.code, 'invalid_name');
  assert.match(frame.message, /5000 characters/);
  assert.equal((await client.waitClose()).code, 4400);
  // A request line past Node's header limit gets 431 from the HTTP layer; the server lives on.
  const huge = await fetch(`${httpUrl}/ws/chat/${'r'.repeat(20_000)}/`).catch(() => undefined);
  if (huge !== undefined) assert.equal(huge.status, 431);
  assert.equal((await fetch(`${httpUrl}/healthz`)).status, 200);
});
