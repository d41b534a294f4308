/**
 * ParleyRoom against a scripted server: a real HTTP and WebSocket server on loopback that sends
 * exactly the frames a test lists. For what a real Parley server does only in rare moments (live
 * messages arriving while a recovery pages, a close for a broken rule, a newer server's error
 * code, a server that goes quiet), which these tests can then make happen every time.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { test, type TestContext } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  CLOSE_CODES,
  DEFAULT_ROOM_SETTINGS,
  PROTOCOL_V1,
  tokenFromProtocols,
  type HistoryPage,
  type MessageFrame,
  type ModerationFrame,
  type ServerFrame,
  type SettingsFrame,
  type WebhookChangeFrame,
  type WelcomeFrame,
} from '@parley/protocol';
import { ParleyRoom, type ParleyError, type ParleyRoomOptions, type RoomEvents } from '../../src/index.ts';
import { until } from '../helpers/sockets.ts';

interface Connection {
  socket: WebSocket;
  url: URL;
  token: string | undefined;
  received: unknown[];
}

/** A server whose sockets and history pages the test drives. */
class ScriptedServer {
  readonly connections: Connection[] = [];
  /** Answers GET /api/rooms/<room>/messages, by the `after` asked for. */
  pages = new Map<string, { page: HistoryPage; delayMs?: number }>();
  url = '';

  static async start(t: TestContext): Promise<ScriptedServer> {
    const scripted = new ScriptedServer();
    const http = createServer((request, response) => void scripted.#page(request, response));
    const sockets = new WebSocketServer({
      server: http,
      handleProtocols: (offered) => (offered.has(PROTOCOL_V1) ? PROTOCOL_V1 : false),
    });
    sockets.on('connection', (socket, request) => {
      const connection: Connection = {
        socket,
        url: new URL(request.url ?? '/', 'http://localhost'),
        token: tokenFromProtocols(request.headers['sec-websocket-protocol']),
        received: [],
      };
      socket.on('message', (data) => connection.received.push(JSON.parse(String(data))));
      scripted.connections.push(connection);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    t.after(async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise((resolve) => sockets.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    });
    const address = http.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    scripted.url = `http://127.0.0.1:${address.port}`;
    return scripted;
  }

  get current(): Connection {
    const connection = this.connections.at(-1);
    if (connection === undefined) throw new Error('no connection yet');
    return connection;
  }

  send(frame: ServerFrame | object, connection: Connection = this.current): void {
    connection.socket.send(JSON.stringify(frame));
  }

  async #page(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const after = new URL(request.url ?? '/', 'http://localhost').searchParams.get('after') ?? '';
    const answer = this.pages.get(after);
    if (answer?.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    response.writeHead(answer === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer?.page ?? { error: 'not_found', message: `no page after ${after}` }));
  }
}

const bob = { id: 'u_bob', name: 'Bob' };
const message = (id: string, text = id): MessageFrame => ({
  type: 'message',
  id,
  room: 'lobby',
  user: bob,
  text,
  ts: 1,
});

function welcome(fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'lobby',
    you: { id: 'u_me', name: 'Bot' },
    token: 'u_me.k1.1.sig',
    members: [],
    history: [],
    recovered: false,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

function open(t: TestContext, server: ScriptedServer, options: Partial<ParleyRoomOptions> = {}): ParleyRoom {
  const room = new ParleyRoom({
    server: server.url,
    room: 'lobby',
    name: 'Bot',
    reconnectBackoff: { minMs: 20, maxMs: 50 },
    ...options,
  });
  t.after(() => room.close());
  return room;
}

function record<K extends keyof RoomEvents>(room: ParleyRoom, event: K): RoomEvents[K][] {
  const seen: RoomEvents[K][] = [];
  room.on(event, (...args) => seen.push(args));
  return seen;
}

test('live entries that arrive while a recovery pages are delivered after the pages, in order, once', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server, { since: '10-0' });
  const messages = record(room, 'message');
  const recovered = record(room, 'recovered');
  // The first page is slow: live messages, newer than the hole, come before it.
  server.pages.set('12-0', {
    page: { room: 'lobby', messages: [message('13-0')], hasMore: true, hasNewer: true, recovered: true },
    delayMs: 150,
  });
  server.pages.set('13-0', {
    page: {
      room: 'lobby',
      messages: [message('14-0'), message('15-0')],
      hasMore: true,
      hasNewer: false,
      recovered: true,
    },
  });
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  assert.equal(server.current.url.searchParams.get('since'), '10-0');
  server.send(
    welcome({ history: [message('11-0'), message('12-0')], recovered: true, hasNewer: true, lastEventId: '12-0' }),
  );
  await connected;
  server.send(message('15-0'));
  server.send(message('16-0'));
  await until(() => recovered.length === 1, 'the recovery');
  await until(() => messages.length === 6, 'every message');
  assert.deepEqual(
    messages.map(([m, context]) => `${m.id} ${context.source}`),
    ['11-0 recovery', '12-0 recovery', '13-0 recovery', '14-0 recovery', '15-0 recovery', '16-0 live'],
  );
  assert.deepEqual(recovered[0], [{ complete: true, pages: 2 }]);
  assert.equal(room.lastEventId, '16-0');
});

test('changes of the room’s webhook are log entries: from the welcome and live, once each, with their source; answers are not', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server, { since: '10-0' });
  const webhooks = record(room, 'webhook');
  const set: WebhookChangeFrame = { type: 'webhook', webhook: { events: ['message'] }, by: bob, eventId: '11-0' };
  const removed: WebhookChangeFrame = { type: 'webhook', webhook: null, by: bob, eventId: '13-0' };
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome({ history: [message('12-0')], webhookChanges: [set], recovered: true, lastEventId: '12-0' }));
  await connected;
  // A replay of the entry the welcome had, the next change, the owner's answer (no entry).
  server.send(set);
  server.send(removed);
  server.send({ type: 'webhook', webhook: null, clientMsgId: 'w1' });
  await until(() => webhooks.length === 3, 'the webhook frames');
  assert.deepEqual(
    webhooks.map(([frame, context]) => `${frame.eventId ?? frame.clientMsgId} ${context?.source ?? '-'}`),
    ['11-0 recovery', '13-0 live', 'w1 -'],
  );
  assert.equal(room.lastEventId, '13-0');
});

test('a first welcome’s moderation actions and settings changes are its history: in the log’s order with its messages, once each', async (t) => {
  // A welcome without since lists the entries of its history's stretch (servers since 2026-12-07).
  const server = await ScriptedServer.start(t);
  const room = open(t, server);
  const entries: string[] = [];
  const note = (kind: string) => (frame: { eventId?: string; id?: string }, context?: { source: string }) =>
    entries.push(`${kind} ${frame.eventId ?? frame.id} ${context?.source ?? '-'}`);
  room.on('message', note('message'));
  room.on('moderation', note('moderation'));
  room.on('settings', note('settings'));
  const mute: ModerationFrame = { type: 'moderation', action: 'mute', user: bob, by: bob, until: 99, eventId: '11-0' };
  const topic: SettingsFrame = { type: 'settings', ...DEFAULT_ROOM_SETTINGS, topic: 'Seeds', by: bob, eventId: '12-0' };
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  assert.equal(server.current.url.searchParams.get('since'), null);
  server.send(
    welcome({
      history: [message('10-0'), message('13-0')],
      moderation: [mute],
      settingsChanges: [topic],
      lastEventId: '13-0',
    }),
  );
  await connected;
  // The same entries live again are dropped; a new one is live.
  server.send(topic);
  server.send(message('14-0'));
  await until(() => entries.length === 5, 'the entries');
  assert.deepEqual(entries, [
    'message 10-0 history',
    'moderation 11-0 history',
    'settings 12-0 history',
    'message 13-0 history',
    'message 14-0 live',
  ]);
  assert.equal(room.lastEventId, '14-0');
});

test('a connection lost mid-recovery reconnects from the last id without a hole, not from the newest', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server, { since: '10-0' });
  server.pages.set('12-0', {
    page: { room: 'lobby', messages: [message('13-0')], hasMore: true, hasNewer: true, recovered: true },
  });
  // The page after 13-0 never comes in time: the connection drops while it is awaited.
  server.pages.set('13-0', {
    page: { room: 'lobby', messages: [message('14-0')], hasMore: true, hasNewer: false, recovered: true },
    delayMs: 600,
  });
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome({ history: [message('11-0'), message('12-0')], recovered: true, hasNewer: true }));
  await connected;
  server.send(message('20-0'));
  await until(() => room.lastEventId === '13-0', 'the first page');
  server.current.socket.terminate();
  await until(() => server.connections.length === 2, 'the reconnect');
  assert.equal(server.current.url.searchParams.get('since'), '13-0');
  assert.equal(server.current.token, 'u_me.k1.1.sig');
});

test('a close for a broken rule (1008) is final, with the reason; so is 4400 after invalid_name', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server);
  const closes = record(room, 'close');
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome());
  await connected;
  server.current.socket.close(CLOSE_CODES.policyViolation, 'too many invalid frames');
  await until(() => closes.length === 1, 'the close');
  assert.equal(closes[0]?.[0].code, 1008);
  assert.equal(closes[0]?.[0].error?.code, 'refused');
  assert.match(closes[0]?.[0].reason ?? '', /too many invalid frames/);

  const other = open(t, server);
  const otherCloses = record(other, 'close');
  const refused = other.connect();
  await until(() => server.connections.length === 2, 'the second connection');
  server.send({ type: 'error', code: 'invalid_name', message: 'Name is reserved.' });
  server.current.socket.close(CLOSE_CODES.badRequest, 'invalid_name');
  await assert.rejects(refused, (e: ParleyError) => e.code === 'invalid_name');
  assert.equal(otherCloses[0]?.[0].error?.code, 'invalid_name');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(server.connections.length, 2, 'no reconnect');
});

test('a server restart (1012) and a resync (4009) are reconnected with since', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server);
  const disconnects = record(room, 'disconnect');
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome({ history: [message('5-0')] }));
  await connected;
  for (const [index, code] of [CLOSE_CODES.serviceRestart, CLOSE_CODES.resync].entries()) {
    server.current.socket.close(code, 'reconnect');
    await until(() => server.connections.length === index + 2, `reconnect ${index + 1}`);
    assert.equal(server.current.url.searchParams.get('since'), '5-0');
    server.send(welcome({ history: [], recovered: true }));
  }
  assert.deepEqual(
    disconnects.map(([info]) => info.code),
    [1012, 4009],
  );
});

test("an error code this build does not know still rejects the request it answers, with the server's code", async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server);
  const errors = record(room, 'error');
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome());
  await connected;
  const sending = room.send('hello');
  await until(() => server.current.received.length === 1, 'the message');
  const { clientMsgId } = server.current.received[0] as { clientMsgId: string };
  server.send({ type: 'error', code: 'from_the_future', message: 'Not today.', clientMsgId });
  await assert.rejects(sending, (e: ParleyError) => e.code === 'from_the_future' && e.clientMsgId === clientMsgId);
  // One about nothing this client asked is an error event; a frame that is no frame too.
  server.send({ type: 'error', code: 'from_the_future', message: 'Still not.' });
  server.send({ type: 'no such frame' });
  await until(() => errors.length === 2, 'two error events');
  assert.deepEqual(
    errors.map(([e]) => e.code),
    ['from_the_future', 'bad_server_frame'],
  );
});

test('requests typed before the welcome go out after it, within the pace', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server, { pace: { perSecond: 20, burst: 2 } });
  const answers = [room.send('one'), room.send('two'), room.send('three')];
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(server.current.received.length, 0, 'nothing before the welcome');
  server.send(welcome());
  await connected;
  await until(() => server.current.received.length === 2, 'the burst');
  // The third waits for the pace (50 ms a frame), then goes.
  await until(() => server.current.received.length === 3, 'the third');
  const sent = server.current.received as Array<{ text: string; clientMsgId: string }>;
  assert.deepEqual(
    sent.map((f) => f.text),
    ['one', 'two', 'three'],
  );
  sent.forEach((frame, i) => server.send({ type: 'ack', clientMsgId: frame.clientMsgId, id: `${i + 1}-0` }));
  assert.deepEqual(
    (await Promise.all(answers)).map((a) => a.id),
    ['1-0', '2-0', '3-0'],
  );
});

test('a connection that hears nothing, not even a ping, is dropped and reconnected', async (t) => {
  const server = await ScriptedServer.start(t);
  const room = open(t, server, { heartbeatTimeoutMs: 300 });
  const disconnects = record(room, 'disconnect');
  const connected = room.connect();
  await until(() => server.connections.length === 1, 'the connection');
  server.send(welcome());
  await connected;
  // Pings keep it alive…
  for (let i = 0; i < 4; i++) {
    server.current.socket.ping();
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  assert.equal(server.connections.length, 1);
  // …silence does not.
  await until(() => server.connections.length === 2, 'the reconnect', 3_000);
  assert.match(disconnects[0]?.[0].reason ?? '', /Nothing heard/);
});
