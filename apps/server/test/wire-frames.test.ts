import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ws from 'ws';
import { encodeTextFrame } from '../src/wire/frames.ts';
import { OutgoingBatch, OutgoingEvent } from '../src/rooms/outgoing-event.ts';
import type { RoomEvent } from '@parley/protocol';

// ws exports its frame parser at run time; @types/ws does not declare it.
interface FrameReceiver {
  on(event: string, listener: (...args: any[]) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = ws as unknown as { Receiver: new (options: { isServer: boolean }) => FrameReceiver };

/** Decodes bytes with ws' own frame parser (as a client would) and returns the text messages. */
function decode(bytes: Buffer): string[] {
  const messages: string[] = [];
  const receiver = new Receiver({ isServer: false });
  receiver.on('message', (data: Buffer, isBinary: boolean) => {
    assert.equal(isBinary, false);
    messages.push(data.toString());
  });
  receiver.on('error', (err: Error) => assert.fail(err));
  receiver.write(bytes);
  return messages;
}

test('encodeTextFrame builds frames a WebSocket client parses, at every length boundary', () => {
  // 125/126 and 65,535/65,536 bytes are where the header changes size (7-bit, 16-bit, 64-bit
  // lengths); 'é' is two bytes, so the byte length, not the string length, must be used.
  for (const bytes of [0, 1, 125, 126, 127, 65_535, 65_536, 200_000]) {
    const text = bytes >= 2 ? 'x'.repeat(bytes - 2) + 'é' : 'x'.repeat(bytes);
    const encoded = encodeTextFrame(text);
    assert.equal(encoded.payloadBytes, bytes);
    assert.deepEqual(decode(encoded.wire), [text], `payload of ${bytes} bytes`);
    assert.equal(encoded.payloads[0]!.toString(), text);
  }
});

test('a batch is the frames of its events back to back, each its own message', () => {
  const message = (n: number): RoomEvent => ({
    kind: 'message',
    message: {
      type: 'message',
      id: `0000000000${n}-0`,
      room: 'r',
      user: { id: 'u1', name: 'Ann' },
      text: `hello ${n} ${'.'.repeat(n * 50)}`,
      ts: 1,
    },
  });
  const join: RoomEvent = { kind: 'join', room: 'r', user: { id: 'u2', name: 'Bo' }, ts: 2 };
  const events = [message(1), join, message(2), message(3)].map((e) => new OutgoingEvent(e));
  const batch = new OutgoingBatch(events);

  assert.equal(batch.messageCount, 3);
  assert.deepEqual([...(batch.skippedFor ?? [])], ['u2']);
  const v1 = decode(batch.v1.wire).map((m) => JSON.parse(m));
  assert.deepEqual(
    v1.map((m) => m.type),
    ['message', 'join', 'message', 'message'],
  );
  assert.deepEqual(
    batch.v1.payloads.map((p) => p.toString()),
    events.map((e) => e.v1.payloads[0]!.toString()),
  );
  assert.equal(
    batch.v1.payloadBytes,
    batch.v1.payloads.reduce((n, p) => n + p.length, 0),
  );
  // Reference clients get only the messages, as {"message": text}.
  assert.deepEqual(
    decode(batch.reference!.wire).map((m) => JSON.parse(m).message),
    [1, 2, 3].map((n) => `hello ${n} ${'.'.repeat(n * 50)}`),
  );
  // A presence-only batch has nothing for reference clients.
  assert.equal(new OutgoingBatch([new OutgoingEvent(join)]).reference, undefined);
});
