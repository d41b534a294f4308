import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientFrame, decodeServerFrame, encodeFrame } from './codec.ts';
import { isWebhookEventName } from './integrations.ts';
import { RoomEventSchema, WebhookChangeEventSchema, WebhookRecordSchema } from './room-events.ts';
import type { ServerFrame } from './server-frames.ts';
import * as v from 'valibot';

const user = { id: 'u_abcdefghijkl', name: 'Olga' };

test('webhook requests: set, change the events, remove, ask', () => {
  const good = [
    { type: 'webhook', url: 'https://hooks.example.com/parley', clientMsgId: 'w1' },
    {
      type: 'webhook',
      url: 'http://hooks.example.com:8080/p?room=lobby',
      events: ['message', 'join'],
      clientMsgId: 'w2',
    },
    { type: 'webhook', events: ['room.occupied', 'room.vacated'], clientMsgId: 'w3' },
    { type: 'webhook', url: null, clientMsgId: 'w4' },
    { type: 'webhook', clientMsgId: 'w5' },
  ];
  for (const frame of good) assert.deepEqual(decodeClientFrame(JSON.stringify(frame)), { ok: true, value: frame });
});

test('webhook requests that are no frame: bad URLs, events, a removal with events', () => {
  const bad = [
    { type: 'webhook', url: 'ftp://hooks.example.com/', clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://user:pass@hooks.example.com/', clientMsgId: 'w1' },
    { type: 'webhook', url: `https://hooks.example.com/${'a'.repeat(2048)}`, clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://hooks.example.com/a b', clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://hooks.example.com/', events: [], clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://hooks.example.com/', events: ['message', 'message'], clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://hooks.example.com/', events: ['mention'], clientMsgId: 'w1' },
    { type: 'webhook', url: null, events: ['message'], clientMsgId: 'w1' },
    { type: 'webhook', url: 'https://hooks.example.com/' },
  ];
  for (const frame of bad) {
    const result = decodeClientFrame(JSON.stringify(frame));
    assert.equal(result.ok, false, JSON.stringify(frame));
    if (!result.ok) assert.equal(result.code, 'bad_frame');
  }
});

test('webhook frames round-trip: the notice to everyone, the owner’s answers, the welcome’s field', () => {
  const frames: ServerFrame[] = [
    { type: 'webhook', webhook: { events: ['message', 'edit', 'delete'] }, by: user, eventId: '1796301200000-0' },
    { type: 'webhook', webhook: null, by: user, eventId: '1796301200000-1' },
    // From a server before webhook changes were logged: no eventId.
    { type: 'webhook', webhook: null, by: user },
    {
      type: 'webhook',
      clientMsgId: 'w1',
      webhook: { events: ['message'], url: 'https://hooks.example.com/parley?token=…', secret: 'whsec_x' },
    },
    {
      type: 'webhook',
      clientMsgId: 'w5',
      webhook: {
        events: ['message'],
        url: 'https://hooks.example.com/parley',
        deliveries: {
          delivered: 3,
          failed: 1,
          retried: 2,
          dropped: 0,
          queued: 0,
          last: { at: 1, deliveryId: 'd_x', event: 'message', attempt: 1, status: 200 },
          failures: [{ at: 1, deliveryId: 'd_y', event: 'message', attempt: 5, error: 'status 503' }],
        },
      },
    },
    { type: 'webhook', clientMsgId: 'w4', webhook: null },
    {
      type: 'welcome',
      room: 'lobby',
      you: user,
      token: 't',
      members: [],
      history: [],
      recovered: false,
      hasMore: false,
      webhook: { events: ['join', 'leave'] },
      webhookChanges: [
        { type: 'webhook', webhook: { events: ['message'] }, by: user, eventId: '1796301200000-0' },
        { type: 'webhook', webhook: { events: ['join', 'leave'] }, by: user, eventId: '1796301200000-2' },
      ],
    },
  ];
  for (const frame of frames) assert.deepEqual(decodeServerFrame(encodeFrame(frame)), { ok: true, value: frame });
  assert.equal(decodeServerFrame('{"type":"webhook"}').ok, false, 'webhook is null or an object, never absent');
});

test('a change is a room event of its own, logged (eventId); its record holds no URL; event names are checked', () => {
  const frame = { type: 'webhook', webhook: { events: ['message'] }, by: user, eventId: '1796301200000-0' };
  const change = { kind: 'webhook', room: 'lobby', webhook: frame };
  assert.ok(v.safeParse(WebhookChangeEventSchema, change).success);
  assert.ok(v.safeParse(RoomEventSchema, { ...change, webhook: { ...frame, webhook: null } }).success);
  assert.ok(!v.safeParse(RoomEventSchema, { ...change, webhook: { ...frame, eventId: undefined } }).success);
  const record = { v: 2, kind: 'webhook', room: 'lobby', user, events: ['message', 'join'] };
  assert.ok(v.safeParse(WebhookRecordSchema, record).success);
  assert.ok(v.safeParse(WebhookRecordSchema, { ...record, events: null }).success);
  assert.deepEqual(Object.keys(v.parse(WebhookRecordSchema, { ...record, url: 'https://x', secret: 's' })).sort(), [
    'events',
    'kind',
    'room',
    'user',
    'v',
  ]);
  assert.ok(isWebhookEventName('room.vacated'));
  assert.ok(!isWebhookEventName('mention'));
});
