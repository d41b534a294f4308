import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compareMessageIds, decodeServerFrame } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { TestClient, connectV1, json, memberOf, nextOfType, postV1 as post, personOf } from './helpers/ws-client.ts';

const isServerFrame = (frame: unknown) => decodeServerFrame(JSON.stringify(frame)).ok;

for (const engine of ['memory', 'redis'] as const) {
  describe(`parley.v1 over the ${engine} engine`, () => {
    let redis: TestRedis | undefined;
    let server: RunningApp;
    let small: RunningApp; // keeps only 5 messages per room

    before(async () => {
      if (engine === 'redis') redis = await TestRedis.start();
      server = await startApp(undefined, { REDIS_URL: redis?.url });
      small = await startApp(undefined, { REDIS_URL: redis?.url, HISTORY_LENGTH: '5' });
    });
    after(async () => {
      await server.app.close();
      await small.app.close();
      await redis?.stop();
    });

    test('welcome: identity, members, empty history; every frame matches the shared schema', async () => {
      const { client, welcome } = await connectV1(server.wsUrl, 'v1_welcome', { name: '  Alice  ' });
      assert.ok(isServerFrame(welcome), JSON.stringify(welcome));
      assert.equal(welcome.room, 'v1_welcome');
      assert.equal(welcome.you.name, 'Alice', 'the name is trimmed');
      assert.match(welcome.you.id, /^u_/);
      assert.ok(welcome.token.startsWith(`${welcome.you.id}.`));
      assert.deepEqual(welcome.members, [memberOf(welcome)]);
      assert.equal(welcome.you.role, 'member');
      assert.deepEqual(welcome.history, []);
      assert.equal(welcome.recovered, false);
      client.close();
    });

    test('messages are acked, delivered to everyone with author, id and time; ids strictly increase', async () => {
      const a = await connectV1(server.wsUrl, 'v1_chat', { name: 'Alice' });
      const b = await connectV1(server.wsUrl, 'v1_chat', { name: 'Bob' });
      await nextOfType(a.client, 'join'); // Bob's arrival
      const before = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await post(a.client, `hello ${i}`, `a${i}_${Date.now()}`));
      const received = [];
      while (received.length < 5) {
        const frame = await b.client.next();
        if (frame.type === 'message') received.push(frame);
      }
      for (const [i, m] of received.entries()) {
        assert.ok(isServerFrame(m));
        assert.equal(m.id, ids[i]);
        assert.equal(m.text, `hello ${i}`);
        assert.deepEqual(m.user, personOf(a.welcome));
        assert.equal(m.room, 'v1_chat');
        assert.ok(m.ts >= before - 5 && m.ts <= Date.now() + 5);
        assert.match(m.clientMsgId, /^a\d_/);
      }
      for (let i = 1; i < ids.length; i++) assert.ok(compareMessageIds(ids[i - 1]!, ids[i]!) < 0);
      a.client.close();
      b.client.close();
    });

    test('a late joiner gets the latest page of history, oldest first, and can page back over HTTP', async () => {
      const writer = await connectV1(server.wsUrl, 'v1_history', { name: 'Writer' });
      for (let i = 0; i < 60; i++) writer.client.send({ type: 'message', text: `m${i}`, clientMsgId: `h${i}` });
      let acks = 0;
      while (acks < 60) if ((await writer.client.next()).type === 'ack') acks++;
      const late = await connectV1(server.wsUrl, 'v1_history', { name: 'Late' });
      assert.equal(late.welcome.history.length, 50);
      assert.equal(late.welcome.history[0].text, 'm10');
      assert.equal(late.welcome.history[49].text, 'm59');
      assert.equal(late.welcome.hasMore, true);

      const firstId = late.welcome.history[0].id;
      const page = await json(
        await fetch(`${server.httpUrl}/api/rooms/v1_history/messages?before=${firstId}&limit=20`),
      );
      assert.deepEqual(
        page.messages.map((m: any) => m.text),
        Array.from({ length: 10 }, (_, i) => `m${i}`),
      );
      assert.equal(page.hasMore, false);
      const bad = await fetch(`${server.httpUrl}/api/rooms/v1_history/messages?before=garbage`);
      assert.equal(bad.status, 400);
      const badRoom = await fetch(`${server.httpUrl}/api/rooms/bad%20room/messages`);
      assert.equal(badRoom.status, 400);
      writer.client.close();
      late.client.close();
    });

    test('reconnecting with since gets exactly the missed messages, in order, and recovered: true', async () => {
      const stayer = await connectV1(server.wsUrl, 'v1_recover', { name: 'Stayer' });
      const leaver = await connectV1(server.wsUrl, 'v1_recover', { name: 'Leaver' });
      const seen = await post(leaver.client, 'before the drop');
      leaver.client.close();
      await leaver.client.waitClose();
      const missed = [];
      for (let i = 0; i < 7; i++) missed.push(await post(stayer.client, `missed ${i}`));
      const back = await connectV1(server.wsUrl, 'v1_recover', {
        name: 'Leaver',
        token: leaver.welcome.token,
        since: seen,
      });
      assert.equal(back.welcome.recovered, true);
      assert.deepEqual(
        back.welcome.history.map((m: any) => m.id),
        missed,
      );
      assert.equal(back.welcome.you.id, leaver.welcome.you.id, 'same person after reconnect');
      // Nothing from the history is delivered a second time after the welcome.
      const next = await post(stayer.client, 'after');
      const frame = await nextOfType(back.client, 'message');
      assert.equal(frame.id, next);
      stayer.client.close();
      back.client.close();
    });

    test('a since older than what is retained gets the latest page and recovered: false', async () => {
      const writer = await connectV1(small.wsUrl, 'v1_trimmed', { name: 'W' });
      const ids = [];
      for (let i = 0; i < 10; i++) ids.push(await post(writer.client, `t${i}`));
      const back = await connectV1(small.wsUrl, 'v1_trimmed', { name: 'R', since: ids[1] });
      assert.equal(back.welcome.recovered, false);
      assert.deepEqual(
        back.welcome.history.map((m: any) => m.text),
        ['t5', 't6', 't7', 't8', 't9'],
      );
      // A since within what is retained still recovers.
      const ok = await connectV1(small.wsUrl, 'v1_trimmed', { name: 'R', since: ids[6] });
      assert.equal(ok.welcome.recovered, true);
      assert.deepEqual(
        ok.welcome.history.map((m: any) => m.text),
        ['t7', 't8', 't9'],
      );
      for (const c of [writer.client, back.client, ok.client]) c.close();
    });

    test('the same clientMsgId twice is stored and delivered once, and acked both times', async () => {
      const sender = await connectV1(server.wsUrl, 'v1_dedup', { name: 'S' });
      const observer = await connectV1(server.wsUrl, 'v1_dedup', { name: 'O' });
      await nextOfType(sender.client, 'join');
      const first = await post(sender.client, 'only once', 'retry-1');
      const second = await post(sender.client, 'only once', 'retry-1');
      assert.equal(second, first);
      const delivered = await nextOfType(observer.client, 'message');
      assert.equal(delivered.id, first);
      const marker = await post(sender.client, 'marker');
      assert.equal((await nextOfType(observer.client, 'message')).id, marker, 'no second copy before the marker');
      // Another person may use the same clientMsgId without colliding.
      const other = await post(observer.client, 'mine', 'retry-1');
      assert.notEqual(other, first);
      sender.client.close();
      observer.client.close();
    });

    test('identity: a token keeps the id; a forged token gets a new person', async () => {
      const first = await connectV1(server.wsUrl, 'v1_identity', { name: 'Ann' });
      first.client.close();
      const again = await connectV1(server.wsUrl, 'v1_identity', { name: 'Ann B', token: first.welcome.token });
      assert.equal(again.welcome.you.id, first.welcome.you.id);
      assert.equal(again.welcome.you.name, 'Ann B', 'a name change is allowed, the id stays');
      const forged = `${first.welcome.you.id}.${'A'.repeat(43)}`;
      const impostor = await connectV1(server.wsUrl, 'v1_identity', { name: 'Mallory', token: forged });
      assert.notEqual(impostor.welcome.you.id, first.welcome.you.id);
      again.client.close();
      impostor.client.close();
    });

    test('presence: join and leave; a person with two tabs counts once', async () => {
      const watcher = await connectV1(server.wsUrl, 'v1_presence', { name: 'Watcher' });
      const tab1 = await connectV1(server.wsUrl, 'v1_presence', { name: 'Tabby' });
      const join = await nextOfType(watcher.client, 'join');
      assert.deepEqual(join.user, memberOf(tab1.welcome));
      assert.deepEqual(tab1.welcome.members.map((m: any) => m.name).sort(), ['Tabby', 'Watcher']);
      const tab2 = await connectV1(server.wsUrl, 'v1_presence', { name: 'Tabby', token: tab1.welcome.token });
      assert.equal(tab2.welcome.members.length, 2, 'two people, not three');
      tab1.client.close();
      await tab1.client.waitClose();
      const marker = await post(tab2.client, 'still here');
      assert.equal((await nextOfType(watcher.client, 'message')).id, marker, 'no leave while a tab is open');
      tab2.client.close();
      const leave = await nextOfType(watcher.client, 'leave');
      assert.equal(leave.user.id, tab1.welcome.you.id);
      watcher.client.close();
    });

    test('typing reaches others, not the typist', async () => {
      const typist = await connectV1(server.wsUrl, 'v1_typing', { name: 'Typist' });
      const reader = await connectV1(server.wsUrl, 'v1_typing', { name: 'Reader' });
      await nextOfType(typist.client, 'join');
      typist.client.send({ type: 'typing' });
      const typing = await nextOfType(reader.client, 'typing');
      assert.deepEqual(typing.user, personOf(typist.welcome));
      // The typist hears nothing of it.
      await typist.client.expectSilence(300);
      typist.client.close();
      reader.client.close();
    });

    test('bad v1 frames and parameters get clear errors', async () => {
      const { client } = await connectV1(server.wsUrl, 'v1_bad', { name: 'B' });
      const cases: Array<[unknown, string, string | undefined]> = [
        [{ type: 'nope' }, 'bad_frame', undefined],
        [{ type: 'message', text: 'no id' }, 'bad_frame', undefined],
        [{ type: 'message', text: 'x', clientMsgId: 'has space' }, 'bad_frame', undefined],
        [{ type: 'message', text: '  ', clientMsgId: 'blank' }, 'bad_frame', 'blank'],
        [{ type: 'message', text: 'z'.repeat(4097), clientMsgId: 'big' }, 'too_large', 'big'],
      ];
      for (const [frame, code, clientMsgId] of cases) {
        client.send(frame);
        const reply = await client.next();
        assert.equal(reply.type, 'error', JSON.stringify(frame).slice(0, 40));
        assert.equal(reply.code, code);
        assert.equal(reply.clientMsgId, clientMsgId);
      }
      client.close();

      const refusals: Array<[string, string]> = [
        ['?since=x', 'invalid_name'],
        ['?name=', 'invalid_name'],
        [`?name=${'n'.repeat(33)}`, 'invalid_name'],
        ['?name=ok&since=yesterday', 'invalid_since'],
      ];
      for (const [query, code] of refusals) {
        const c = await TestClient.connect(`${server.wsUrl}/ws/chat/v1_bad/${query}`, { protocols: ['parley.v1'] });
        const frame = await c.next();
        assert.equal(frame.code, code, query);
        assert.equal((await c.waitClose()).code, 4400);
      }
    });

    test('reference and v1 clients share a room', async () => {
      const modern = await connectV1(server.wsUrl, 'v1_mixed', { name: 'Modern' });
      const classic = await TestClient.connect(`${server.wsUrl}/ws/chat/v1_mixed/`);
      classic.send({ message: 'from the reference page' });
      const got = await nextOfType(modern.client, 'message');
      assert.equal(got.text, 'from the reference page');
      assert.equal(got.user.name, 'Anonymous');
      assert.deepEqual(await classic.next(), { message: 'from the reference page' });
      await post(modern.client, 'from parley');
      assert.deepEqual(
        await classic.next(),
        { message: 'from parley' },
        'no join/typing/ack frames reach reference clients',
      );
      modern.client.close();
      classic.close();
    });

    test('GET /api/rooms lists active rooms with member counts, most active first', async () => {
      const busy = [];
      for (const name of ['P1', 'P2', 'P3']) busy.push(await connectV1(server.wsUrl, 'v1_list_busy', { name }));
      const quiet = await connectV1(server.wsUrl, 'v1_list_quiet', { name: 'Q' });
      const { rooms } = await json(await fetch(`${server.httpUrl}/api/rooms`));
      const names = rooms.map((r: any) => r.room);
      assert.ok(names.indexOf('v1_list_busy') < names.indexOf('v1_list_quiet'));
      assert.equal(rooms.find((r: any) => r.room === 'v1_list_busy').members, 3);
      assert.equal(rooms.find((r: any) => r.room === 'v1_list_quiet').members, 1);
      assert.ok(rooms.every((r: any) => typeof r.lastActivity === 'number'));
      for (const c of [...busy, quiet]) c.client.close();
    });
  });
}
