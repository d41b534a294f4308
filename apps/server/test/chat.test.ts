import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, roomPath, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { TestClient } from './helpers/ws-client.ts';

// The same chat behaviour must hold on both engines.
for (const engine of ['memory', 'redis'] as const) {
  describe(`chat over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let server: RunningApp;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      server = await startApp(undefined, { REDIS_URL: redis?.url });
    });
    after(async () => {
      await server.app.close();
      await redis?.stop();
    });

    const join = (room: string) => TestClient.connect(server.wsUrl + roomPath(room));

    test('a reference client gets every message of its room, its own included, as {"message": text}', async () => {
      const alice = await join('lobby');
      const bob = await join('lobby');
      alice.send({ message: 'hello from alice' });
      assert.deepEqual(await alice.next(), { message: 'hello from alice' });
      assert.deepEqual(await bob.next(), { message: 'hello from alice' });
      bob.send({ message: 'hi alice', extra: 'ignored like the reference does' });
      assert.deepEqual(await alice.next(), { message: 'hi alice' });
      assert.deepEqual(await bob.next(), { message: 'hi alice' });
      alice.close();
      bob.close();
    });

    test('rooms are isolated', async () => {
      const inLobby = await join('lobby');
      const inOther = await join('room_1');
      inLobby.send({ message: 'only for the lobby' });
      assert.deepEqual(await inLobby.next(), { message: 'only for the lobby' });
      inOther.send({ message: 'only for room_1' });
      // room_1 receives its own message and nothing from the lobby before it.
      assert.deepEqual(await inOther.next(), { message: 'only for room_1' });
      await inLobby.expectSilence(200);
      inLobby.close();
      inOther.close();
    });

    test('messages keep their order per sender', async () => {
      const sender = await join('ordered');
      const reader = await join('ordered');
      for (let i = 0; i < 50; i++) sender.send({ message: `m${i}` });
      const got = await reader.take(50);
      assert.deepEqual(
        got.map((f) => f.message),
        Array.from({ length: 50 }, (_, i) => `m${i}`),
      );
      sender.close();
      reader.close();
    });

    test('Unicode room names work, and are normalized (NFC) so one word is one room', async () => {
      const korean = await join('한국어');
      korean.send({ message: '안녕하세요' });
      assert.deepEqual(await korean.next(), { message: '안녕하세요' });
      const composed = await join('caf\u00e9');
      const decomposed = await join('cafe\u0301');
      decomposed.send({ message: 'same room' });
      assert.deepEqual(await composed.next(), { message: 'same room' });
      for (const c of [korean, composed, decomposed]) c.close();
    });

    test('the trailing slash is optional', async () => {
      const withSlash = await join('slash');
      const without = await TestClient.connect(`${server.wsUrl}/ws/chat/slash`);
      without.send({ message: 'no slash' });
      assert.deepEqual(await withSlash.next(), { message: 'no slash' });
      withSlash.close();
      without.close();
    });

    test('invalid room names are refused with a reason and close code 4400', async () => {
      const cases: Array<[string, RegExp]> = [
        ['/ws/chat/bad%20room/', /space/],
        ['/ws/chat/semi;colon/', /";"/],
        [`/ws/chat/${'a'.repeat(101)}/`, /101 characters/],
        [`/ws/chat/${encodeURIComponent('가'.repeat(400))}/`, /400 characters/],
        [`/ws/chat/${'b'.repeat(5000)}/`, /too long/],
        ['/ws/chat/a/b/', /contains "\/"/],
        ['/ws/chat/%00/', /U\+0000/],
      ];
      for (const [fullPath, reason] of cases) {
        const path = fullPath.slice(0, 60);
        const client = await TestClient.connect(server.wsUrl + fullPath);
        const frame = await client.next();
        assert.equal(frame.type, 'error', path);
        assert.equal(frame.code, 'invalid_room', path);
        assert.match(frame.message, reason, path);
        const closed = await client.waitClose();
        assert.equal(closed.code, 4400, path);
      }
      // The server is unharmed.
      const health = await fetch(`${server.httpUrl}/healthz`);
      assert.equal(health.status, 200);
    });

    test('bad frames get an error frame and the connection stays usable', async () => {
      const client = await join('hostile');
      const cases: Array<[string | Buffer, string]> = [
        ['not json', 'bad_json'],
        ['{"message": 5}', 'bad_frame'],
        ['{"text": "wrong key"}', 'bad_frame'],
        ['[1,2,3]', 'bad_frame'],
        ['null', 'bad_frame'],
        ['{"message": "   "}', 'bad_frame'],
        [JSON.stringify({ message: 'x'.repeat(5000) }), 'too_large'],
        [JSON.stringify({ message: 'bell\u0007' }), 'bad_frame'],
        [Buffer.from([1, 2, 3]), 'bad_frame'],
      ];
      for (const [frame, code] of cases) {
        client.socket.send(frame);
        const reply = await client.next();
        assert.equal(reply.type, 'error');
        assert.equal(reply.code, code, `for ${String(frame).slice(0, 30)}`);
        assert.ok(reply.message.length > 0);
      }
      client.send({ message: 'still here' });
      assert.deepEqual(await client.next(), { message: 'still here' });
      client.close();
    });

    test('a frame over the payload limit closes only that socket (1009)', async () => {
      const bystander = await join('big');
      const offender = await join('big');
      offender.send({ message: 'y'.repeat(20_000) });
      assert.equal((await offender.waitClose()).code, 1009);
      bystander.send({ message: 'unaffected' });
      assert.deepEqual(await bystander.next(), { message: 'unaffected' });
      bystander.close();
    });

    test('messages sent right after connecting are kept while the room is joined, and echoed', async () => {
      // The socket sends the moment it opens, before the server has subscribed to the room.
      const writer = await join('early');
      writer.send({ message: 'first' });
      writer.send({ message: 'second' });
      assert.deepEqual(
        (await writer.take(2)).map((f) => f.message),
        ['first', 'second'],
      );
      writer.close();
    });
  });
}
