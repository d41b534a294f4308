/**
 * ParleyRoom against a real Parley server, on the memory engine and on Redis: acks, resends that
 * are stored once, recovery past what one welcome holds, the token across reconnects, and no
 * reconnect once a moderator removed the client. The sockets are real `ws` connections that the
 * test can drop or keep offline (see helpers/sockets.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import { compareMessageIds, type MessageFrame } from '@parley/protocol';
import {
  fetchHistoryPage,
  fetchMemberPage,
  ParleyError,
  ParleyRoom,
  type ParleyRoomOptions,
  type RoomEvents,
} from '../../src/index.ts';
import { TestRedis, startServer, type ServerProcess } from '../helpers/processes.ts';
import { TestNetwork, until } from '../helpers/sockets.ts';

/** What a welcome holds after `since` (the rest comes in pages): small, so that tests go past it. */
const RECOVERY_PAGE_SIZE = 5;

/** Resolves with the arguments of the room's next `event`, or rejects after `timeoutMs`. */
function next<K extends keyof RoomEvents>(room: ParleyRoom, event: K, timeoutMs = 10_000): Promise<RoomEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no "${String(event)}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = room.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`ParleyRoom on the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let server: ServerProcess;

    before(async () => {
      redis = engine === 'redis' ? await TestRedis.start() : undefined;
      server = await startServer({
        RECOVERY_PAGE_SIZE: String(RECOVERY_PAGE_SIZE),
        ...(redis === undefined ? {} : { REDIS_URL: redis.url }),
      });
    });

    after(async () => {
      await server?.stop();
      await redis?.stop();
    });

    /** A room on the test's server with a network the test controls; closed when the test ends. */
    function open(
      t: TestContext,
      room: string,
      name: string,
      options: Partial<ParleyRoomOptions> = {},
    ): { room: ParleyRoom; network: TestNetwork; messages: MessageFrame[] } {
      const network = new TestNetwork();
      const client = new ParleyRoom({
        server: server.httpUrl,
        room,
        name,
        WebSocket: network.WebSocket,
        reconnectBackoff: { minMs: 50, maxMs: 200 },
        ...options,
      });
      const messages: MessageFrame[] = [];
      client.on('message', (message) => messages.push(message));
      t.after(() => client.close());
      return { room: client, network, messages };
    }

    test('a message is acked with its id, arrives once, and a refusal rejects with its code', async (t) => {
      const alice = open(t, 'acks', 'Alice');
      const bob = open(t, 'acks', 'Bob');
      await alice.room.connect();
      await bob.room.connect();

      const ack = await alice.room.send('hello');
      assert.match(ack.id, /^\d+-\d+$/);
      await until(() => bob.messages.some((m) => m.id === ack.id), 'Bob getting the message');
      const seen = bob.messages.find((m) => m.id === ack.id)!;
      assert.equal(seen.text, 'hello');
      assert.equal(seen.user.id, alice.room.me?.id);
      await until(() => alice.messages.some((m) => m.id === ack.id), 'Alice getting her own message');
      assert.equal(alice.messages.find((m) => m.id === ack.id)?.clientMsgId, ack.clientMsgId);

      // A change is acked with its own log id, which its frame carries as eventId.
      const edited = next(bob.room, 'edit');
      const editAck = await alice.room.edit(ack.id, 'hello, Bob');
      const [edit, context] = await edited;
      assert.deepEqual([edit.id, edit.text, edit.eventId, context.source], [ack.id, 'hello, Bob', editAck.id, 'live']);
      assert.ok(compareMessageIds(editAck.id, ack.id) > 0);

      // Not Bob's message to edit: the promise rejects with the server's code and the request's id.
      const refused = await bob.room.edit(ack.id, 'mine now').then(
        () => assert.fail('the edit was accepted'),
        (error: unknown) => error,
      );
      assert.ok(refused instanceof ParleyError);
      assert.equal(refused.code, 'forbidden');
      assert.ok(refused.clientMsgId?.startsWith('c-'));
      assert.equal(alice.messages.filter((m) => m.id === ack.id).length, 1);
    });

    test('a message whose ack was lost with the connection is resent after the reconnect and stored once', async (t) => {
      const alice = open(t, 'resend', 'Alice');
      await alice.room.connect();
      // The server stores the message and acks it; the ack never reaches the client, whose
      // connection drops right then.
      let dropped = false;
      alice.network.intercept = (data, socket) => {
        if (dropped || (JSON.parse(data) as { type: string }).type !== 'ack') return 'pass';
        dropped = true;
        socket.drop();
        return 'swallow';
      };
      const disconnected = next(alice.room, 'disconnect');
      const ack = await alice.room.send('only once, please');
      const [disconnect] = await disconnected;
      assert.equal(disconnect.code, 1006);
      assert.ok(dropped);

      // Sent twice, with one clientMsgId, on two connections; stored and delivered once.
      assert.equal(alice.network.sentWith(ack.clientMsgId).length, 2);
      assert.ok(alice.network.sockets.length >= 2);
      const page = await alice.room.history();
      const stored = page.messages.filter((m) => m.clientMsgId === ack.clientMsgId);
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.id, ack.id);
      await until(() => alice.messages.some((m) => m.id === ack.id), 'the message arriving');
      assert.equal(alice.messages.filter((m) => m.id === ack.id).length, 1);
    });

    test('an ack that never comes on a healthy connection: the request is resent after the ack timeout', async (t) => {
      const alice = open(t, 'ack_timeout', 'Alice', { outbox: { ackTimeoutMs: 300 } });
      await alice.room.connect();
      let swallowed = 0;
      alice.network.intercept = (data) => {
        if (swallowed > 0 || (JSON.parse(data) as { type: string }).type !== 'ack') return 'pass';
        swallowed += 1;
        return 'swallow';
      };
      const ack = await alice.room.send('are you there?');
      assert.equal(swallowed, 1);
      assert.equal(alice.network.sentWith(ack.clientMsgId).length, 2);
      assert.equal(alice.network.sockets.length, 1);
      const stored = (await alice.room.history()).messages.filter((m) => m.clientMsgId === ack.clientMsgId);
      assert.deepEqual(
        stored.map((m) => m.id),
        [ack.id],
      );
    });

    test('a reconnect recovers everything missed, past the welcome, in order and once', async (t) => {
      const reader = open(t, 'recovery', 'Reader', { recovery: { pageLimit: 4 } });
      const writer = open(t, 'recovery', 'Writer');
      await reader.room.connect();
      await writer.room.connect();
      const before = await writer.room.send('before the drop');
      await until(() => reader.messages.some((m) => m.id === before.id), 'the reader getting the first message');

      // The reader goes offline and stays so while the room moves on.
      reader.network.offline = true;
      const disconnected = next(reader.room, 'disconnect');
      reader.network.current!.drop();
      await disconnected;
      const missedCount = RECOVERY_PAGE_SIZE * 2 + 3;
      const missed: string[] = [];
      for (let i = 1; i <= missedCount; i++) missed.push((await writer.room.send(`missed ${i}`)).id);
      const edit = await writer.room.edit(missed[0]!, 'missed 1 (edited)');
      const fromOffline = reader.room.send('typed while offline');
      const heldBefore = reader.messages.length;

      const recovered = next(reader.room, 'recovered', 20_000);
      reader.network.offline = false;
      reader.room.reconnectNow();
      const [info] = await recovered;
      assert.equal(info.complete, true);
      // The welcome held RECOVERY_PAGE_SIZE messages, pages of 4 the rest.
      assert.ok(info.pages >= 2, `${info.pages} pages`);

      const after = reader.messages.slice(heldBefore);
      const recoveredMessages = after.filter((m) => m.user.id === writer.room.me?.id);
      assert.deepEqual(
        recoveredMessages.map((m) => m.id),
        missed,
      );
      // The edit came folded into the message, or as an edit of its own after it.
      assert.ok(
        recoveredMessages[0]?.text === 'missed 1 (edited)' || reader.room.lastEventId === edit.id,
        'the edit is not lost',
      );
      assert.ok(compareMessageIds(reader.room.lastEventId!, edit.id) >= 0);
      // The message typed offline went out after the welcome, and arrives once too.
      const ownAck = await fromOffline;
      await until(() => reader.messages.some((m) => m.id === ownAck.id), 'the offline message arriving');
      const ids = reader.messages.map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, 'no message delivered twice');
      for (let i = 1; i < ids.length; i++) assert.ok(compareMessageIds(ids[i - 1]!, ids[i]!) < 0, 'in order');
    });

    test('the token keeps the same user id across reconnects and sessions, and never goes in the URL', async (t) => {
      const first = open(t, 'identity', 'Alice');
      const welcome = await first.room.connect();
      const id = welcome.you.id;
      assert.equal(first.room.token, welcome.token);

      const reopened = next(first.room, 'open');
      first.network.current!.drop();
      const [info] = await reopened;
      assert.equal(info.reconnected, true);
      assert.equal(info.welcome.you.id, id);
      assert.equal(first.room.me?.id, id);

      // A later session (a restarted bot) with the token it kept.
      const later = open(t, 'identity', 'Alice', { token: first.room.token! });
      assert.equal((await later.room.connect()).you.id, id);
      // Someone without it is someone else.
      const stranger = open(t, 'identity', 'Alice');
      assert.notEqual((await stranger.room.connect()).you.id, id);

      for (const socket of [...first.network.sockets, ...later.network.sockets])
        assert.doesNotMatch(socket.inner.url, /token/);
    });

    test('an invite-only room’s history and people are read with the room’s token, and refused to strangers', async (t) => {
      const owner = open(t, 'members_only', 'Olga');
      await owner.room.connect();
      await owner.room.send('for members');
      await owner.room.configure({ inviteOnly: true });
      const page = await owner.room.history();
      assert.ok(page.messages.some((m) => m.text === 'for members'));
      const people = await fetchMemberPage(server.httpUrl, 'members_only', {}, { token: owner.room.token! });
      assert.deepEqual(
        people.members.map((m) => m.name),
        ['Olga'],
      );

      // Without a token (the room's) the same reads are refused.
      const refused = await fetchHistoryPage(server.httpUrl, 'members_only', {}).catch((e: unknown) => e);
      assert.ok(refused instanceof ParleyError);
      assert.equal(refused.status, 403);
      assert.match(refused.message, /invite-only/);
      const stranger = open(t, 'elsewhere', 'Sam');
      await stranger.room.connect();
      await assert.rejects(
        fetchMemberPage(server.httpUrl, 'members_only', {}, { token: stranger.room.token! }),
        (e: unknown) => e instanceof ParleyError && e.status === 403,
      );
    });

    test('a kicked client closes for good (4403) and does not reconnect', async (t) => {
      const owner = open(t, 'kicks', 'Olga');
      const victim = open(t, 'kicks', 'Carl');
      await owner.room.connect();
      // The first to post owns the room.
      await owner.room.send('my room');
      await victim.room.connect();

      const closed = next(victim.room, 'close');
      await owner.room.moderate('kick', victim.room.me!.id, { reason: 'testing' });
      const [info] = await closed;
      assert.equal(info.code, 4403);
      assert.equal(info.error?.code, 'kicked');
      assert.equal(victim.room.status, 'closed');

      // Several backoffs later, still one connection; a send is refused at once.
      await new Promise((resolve) => setTimeout(resolve, 800));
      assert.equal(victim.network.sockets.length, 1);
      await assert.rejects(victim.room.send('let me back'), (error: unknown) => {
        return error instanceof ParleyError && error.code === 'closed';
      });
    });
  });
}

describe('ParleyRoom against a server with a low message rate', () => {
  let server: ServerProcess;

  before(async () => {
    // One message a second per connection: a burst of three is refused with rate_limited.
    server = await startServer({ RATE_LIMIT_PER_CONNECTION: '1', RATE_BURST_PER_CONNECTION: '1' });
  });

  after(async () => {
    await server?.stop();
  });

  test('messages refused with rate_limited are resent after a backoff, and each is stored once', async (t) => {
    const network = new TestNetwork();
    // No pacing here: the point is to go over the server's rate.
    const room = new ParleyRoom({
      server: server.httpUrl,
      room: 'busy',
      name: 'Burst',
      WebSocket: network.WebSocket,
      pace: { perSecond: 0, burst: 1 },
    });
    t.after(() => room.close());
    await room.connect();
    const acks = await Promise.all(['one', 'two', 'three'].map((text) => room.send(text)));
    // Refused at least once each but the first, then sent again with the same clientMsgId.
    assert.ok(network.sent.length >= 5, `${network.sent.length} frames sent`);
    const page = await room.history();
    for (const ack of acks)
      assert.deepEqual(
        page.messages.filter((m) => m.clientMsgId === ack.clientMsgId).map((m) => m.id),
        [ack.id],
      );
  });
});
