import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { TestClient, connectV1, json, nextOfType, postV1 as post } from './helpers/ws-client.ts';

// A room's name is case-folded (and NFC-normalized) by the protocol package before the server
// uses it for anything: `Lobby` and `lobby` are one room, on one key, on every instance.
for (const engine of ['memory', 'redis'] as const) {
  describe(`room names over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let a: RunningApp;
    let b: RunningApp;

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      a = await startApp(undefined, { REDIS_URL: redis?.url });
      // Two instances need a shared bus; the memory engine is one instance.
      b = engine === 'redis' ? await startApp(undefined, { REDIS_URL: redis?.url }) : a;
    });
    after(async () => {
      await a.app.close();
      if (b !== a) await b.app.close();
      await redis?.stop();
    });

    test('Names_Case and names_case are one room: one welcome name, one history, one member list', async () => {
      const alice = await connectV1(a.wsUrl, 'Names_Case', { name: 'Alice' });
      assert.equal(alice.welcome.room, 'names_case');
      const bob = await connectV1(b.wsUrl, 'names_case', { name: 'Bob' });
      assert.equal(bob.welcome.room, 'names_case');
      assert.deepEqual(bob.welcome.members.map((m: any) => m.name).sort(), ['Alice', 'Bob']);
      await nextOfType(alice.client, 'join');

      const id = await post(alice.client, 'one room', `c_${Date.now()}`);
      const seen = await nextOfType(bob.client, 'message');
      assert.equal(seen.id, id);
      assert.equal(seen.room, 'names_case');

      const carol = await connectV1(b.wsUrl, 'NAMES_CASE', { name: 'Carol' });
      assert.deepEqual(
        carol.welcome.history.map((m: any) => m.text),
        ['one room'],
      );
      for (const c of [alice, bob, carol]) c.client.close();
    });

    test('the history API and the reference protocol fold the name too', async () => {
      const writer = await connectV1(a.wsUrl, 'names_api', { name: 'Writer' });
      await post(writer.client, 'hello', `h_${Date.now()}`);
      const page = await json(await fetch(`${b.httpUrl}/api/rooms/Names_API/messages`));
      assert.equal(page.room, 'names_api');
      assert.deepEqual(
        page.messages.map((m: any) => m.text),
        ['hello'],
      );

      const reference = await TestClient.connect(`${b.wsUrl}/ws/chat/NAMES_API/`);
      await post(writer.client, 'to everyone', `r_${Date.now()}`);
      assert.deepEqual(await reference.next(), { message: 'to everyone' });
      reference.close();
      writer.client.close();
    });

    test('the room list names the room once, in lower case', async () => {
      const upper = await connectV1(a.wsUrl, 'Names_List', { name: 'Upper' });
      const lower = await connectV1(b.wsUrl, 'names_list', { name: 'Lower' });
      await post(upper.client, 'listed', `l_${Date.now()}`);
      // The list is built at most once a second per instance.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const { rooms } = await json(await fetch(`${a.httpUrl}/api/rooms`));
      const names = rooms.map((r: any) => r.room).filter((r: string) => r.toLowerCase() === 'names_list');
      assert.deepEqual(names, ['names_list']);
      assert.equal(rooms.find((r: any) => r.room === 'names_list').members, 2);
      upper.client.close();
      lower.client.close();
    });

    if (engine === 'redis') {
      test('a room an earlier release kept under a capitalised name is not listed (it can no longer be opened)', async () => {
        const { Redis } = await import('ioredis');
        const direct = new Redis(redis!.url);
        await direct.zadd('parley:rooms', Date.now(), 'Old_Capitals');
        direct.disconnect();
        await new Promise((resolve) => setTimeout(resolve, 1100));
        const { rooms } = await json(await fetch(`${a.httpUrl}/api/rooms`));
        assert.ok(!rooms.some((r: any) => r.room === 'Old_Capitals'), JSON.stringify(rooms));
      });
    }
  });
}
