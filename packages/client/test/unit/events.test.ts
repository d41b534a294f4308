/**
 * The room's events, typed per server frame: checked by the compiler (this file is part of the
 * package's typecheck; each @ts-expect-error fails the typecheck if the line it marks compiles)
 * and by running the emitter.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import NodeWebSocket from 'ws';
import type { JoinFrame, MessageFrame, ModerationFrame } from '@parley/protocol';
import {
  ParleyError,
  ParleyRoom,
  TypedEmitter,
  type FrameEvents,
  type LogSource,
  type RoomEvents,
  type WebSocketConstructor,
} from '../../src/index.ts';

/** Compiles only when `value` has exactly type T. */
function exactly<T>(value: T): T {
  return value;
}

test('each event gives its listener the frame of its type (checked by the compiler)', () => {
  const room = new ParleyRoom({ server: 'http://127.0.0.1:9', room: 'Lobby', name: 'Bot' });
  room.on('message', (message, context) => {
    exactly<MessageFrame>(message);
    exactly<LogSource>(context.source);
  });
  room.on('join', (join) => exactly<JoinFrame>(join));
  room.on('moderation', (action) => exactly<ModerationFrame['action']>(action.action));
  room.on('error', (error) => exactly<ParleyError>(error));
  room.on('close', (info) => exactly<number>(info.code));
  // @ts-expect-error: a join is not a message
  room.on('join', (join: MessageFrame) => join);
  // @ts-expect-error: there is no such event
  room.on('messages', () => {});
  // @ts-expect-error: a message listener's context has no `live` flag
  room.on('message', (_message, context) => context.live);
  // The frames passed on as they come each have the event of their type's name, derived from
  // the protocol's union (the log frames, the welcome and errors have theirs above).
  const passedOn: Array<keyof FrameEvents> = ['join', 'leave', 'typing', 'ack', 'invite', 'status'];
  room.on('ack', (ack) => exactly<string>(ack.clientMsgId));
  // @ts-expect-error: messages are log events, with a context, not passed-on frames
  const notPassedOn: keyof FrameEvents = 'message';
  for (const event of [...passedOn, notPassedOn]) assert.equal(typeof room.on(event, () => {}), 'function');
  // The room's name is normalised as the server does; the constructor does not connect.
  assert.equal(room.room, 'lobby');
  assert.equal(room.status, 'idle');
});

test('the WebSocket classes of ws and of the platform fit the WebSocket option (checked by the compiler)', () => {
  const fromWs: WebSocketConstructor = NodeWebSocket;
  type PlatformFits = typeof globalThis.WebSocket extends WebSocketConstructor ? true : false;
  const platformFits: PlatformFits = true;
  assert.ok(fromWs !== undefined && platformFits);
});

class TestEmitter extends TypedEmitter<RoomEvents> {
  fire<K extends keyof RoomEvents>(event: K, ...args: RoomEvents[K]): void {
    this.emit(event, ...args);
  }
}

test('on, once and off', () => {
  const emitter = new TestEmitter();
  const seen: string[] = [];
  const off = emitter.on('token', (token) => seen.push(`on ${token}`));
  emitter.once('token', (token) => seen.push(`once ${token}`));
  emitter.fire('token', 'a');
  emitter.fire('token', 'b');
  off();
  emitter.fire('token', 'c');
  assert.deepEqual(seen, ['on a', 'once a', 'on b']);
  assert.equal(emitter.listenerCount('token'), 0);
});

test('a listener that throws does not stop the others; the room reports it as an error event', () => {
  const room = new ParleyRoom({ server: 'http://127.0.0.1:9', room: 'lobby', name: 'Bot' });
  const errors: ParleyError[] = [];
  const seen: string[] = [];
  room.on('error', (error) => errors.push(error));
  room.on('token', () => {
    throw new Error('listener bug');
  });
  room.on('token', (token) => seen.push(token));
  // The room emits this way on every welcome; here without a server.
  (room as unknown as { emit: (event: string, ...args: unknown[]) => void }).emit('token', 't1');
  assert.deepEqual(seen, ['t1']);
  assert.equal(errors[0]?.code, 'listener_failed');
  assert.equal((errors[0]?.cause as Error).message, 'listener bug');
});

test('the constructor refuses a room or a name the server would refuse, with its code', () => {
  assert.throws(
    () => new ParleyRoom({ server: 'http://127.0.0.1:9', room: 'no-dashes', name: 'Bot' }),
    (e: unknown) => e instanceof ParleyError && e.code === 'invalid_room',
  );
  assert.throws(
    () => new ParleyRoom({ server: 'http://127.0.0.1:9', room: 'lobby', name: '   ' }),
    (e: unknown) => e instanceof ParleyError && e.code === 'invalid_name',
  );
  assert.throws(() => new ParleyRoom({ server: 'ftp://example.com', room: 'lobby', name: 'Bot' }), TypeError);
});

test('requests a server would refuse as malformed are refused before they go out', async () => {
  const room = new ParleyRoom({ server: 'http://127.0.0.1:9', room: 'lobby', name: 'Bot' });
  const refused = (code: string) => (e: unknown) => e instanceof ParleyError && e.code === code;
  await assert.rejects(room.send('   '), refused('bad_frame'));
  await assert.rejects(room.send('hi\u0000'), refused('bad_frame'));
  await assert.rejects(room.react('1-0', 'not an emoji'), refused('bad_frame'));
  await assert.rejects(room.edit('not-an-id', 'x'), refused('bad_frame'));
  await assert.rejects(room.send('hi', { clientMsgId: 'has spaces' }), refused('bad_frame'));
  assert.equal(room.pendingRequests, 0);
  room.close();
});
