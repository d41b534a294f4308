import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { TestClient, connectV1, json, nextOfType, postV1, sendV1 } from './helpers/ws-client.ts';
import { sentKey } from '../src/engine/redis-keys.ts';

/**
 * The protocol's input rules as the server applies them over the wire: message texts, display
 * names, clientMsgId reuse (and retry guards of the previous release), and message ids at and
 * past the edges of their range, on the socket and on the HTTP API.
 */

/** Every message of a room, over the HTTP API (oldest first). */
async function roomHistory(httpUrl: string, room: string): Promise<any[]> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/messages?limit=200`);
  assert.equal(res.status, 200);
  return (await json(res)).messages;
}

for (const engine of ['memory', 'redis'] as const) {
  describe(`input rules over the ${engine} engine`, () => {
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

    test('texts with a lone surrogate, a bidi override or nothing visible are refused with bad_frame; the connection stays open and nothing is stored', async () => {
      const room = `rules_text_${engine}`;
      const sender = await connectV1(server.wsUrl, room, { name: 'Sender' });
      const observer = await connectV1(server.wsUrl, room, { name: 'Observer' });
      await nextOfType(sender.client, 'join');
      const refused: Array<[string, string]> = [
        // Raw JSON, so the \ud800 escape reaches the server as an escape (JSON.stringify would keep it too, but this is what an attacker sends).
        ['lone high surrogate', '{"type":"message","text":"a\\ud800b","clientMsgId":"surrogate-1"}'],
        ['lone low surrogate', '{"type":"message","text":"x\\udc00","clientMsgId":"surrogate-2"}'],
        [
          'right-to-left override',
          JSON.stringify({ type: 'message', text: 'abc\u202Egnp.exe', clientMsgId: 'bidi-1' }),
        ],
        [
          'zero-width spaces only',
          JSON.stringify({ type: 'message', text: '\u200b\u200b\u200b', clientMsgId: 'invisible-1' }),
        ],
        [
          'Hangul filler and Braille blank only',
          JSON.stringify({ type: 'message', text: '\u3164 \u2800', clientMsgId: 'invisible-2' }),
        ],
      ];
      for (const [what, raw] of refused) {
        const clientMsgId = JSON.parse(raw).clientMsgId;
        sender.client.send(raw);
        const reply = await sender.client.next();
        assert.equal(reply.type, 'error', what);
        assert.equal(reply.code, 'bad_frame', what);
        assert.equal(reply.clientMsgId, clientMsgId, `${what}: the error names the message`);
      }
      // Still open: the next valid message is acked and delivered, and it is the only one.
      const ok = await postV1(sender.client, 'a\u200bb is fine (a zero-width space between letters)', 'valid-1');
      const delivered = await nextOfType(observer.client, 'message');
      assert.equal(delivered.id, ok, 'no refused text reached anyone');
      assert.equal(sender.client.closeEvent, undefined);
      assert.deepEqual(
        (await roomHistory(server.httpUrl, room)).map((m) => m.id),
        [ok],
        'none was stored',
      );
      sender.client.close();
      observer.client.close();
    });

    test('names refused at connect: "Anonymous", a Hangul filler, a Braille blank → invalid_name and close 4400', async () => {
      for (const name of ['Anonymous', 'anonymous', 'Alice\u3164', '\u2800', 'Al\u200bice']) {
        const query = new URLSearchParams({ name });
        const client = await TestClient.connect(`${server.wsUrl}/ws/chat/rules_names/?${query}`, {
          protocols: ['parley.v1'],
        });
        const frame = await client.next();
        assert.equal(frame.type, 'error', JSON.stringify(name));
        assert.equal(frame.code, 'invalid_name', JSON.stringify(name));
        assert.equal((await client.waitClose()).code, 4400, JSON.stringify(name));
      }
      // Names that look alike but are fine still pass.
      const { welcome, client } = await connectV1(server.wsUrl, 'rules_names', { name: 'Anonymous Coward' });
      assert.equal(welcome.you.name, 'Anonymous Coward');
      client.close();
    });

    test('a clientMsgId reused with another text is refused (client_msg_id_reused); nothing is stored or delivered; the first text again is still acked with the first id', async () => {
      const room = `rules_reuse_${engine}`;
      const sender = await connectV1(server.wsUrl, room, { name: 'Sender' });
      const observer = await connectV1(server.wsUrl, room, { name: 'Observer' });
      await nextOfType(sender.client, 'join');
      const first = await postV1(sender.client, 'the first text', 'reuse-1');
      assert.equal((await nextOfType(observer.client, 'message')).id, first);

      const reply = await sendV1(sender.client, 'another text', 'reuse-1');
      assert.equal(reply.type, 'error');
      assert.equal(reply.code, 'client_msg_id_reused');
      assert.equal(reply.clientMsgId, 'reuse-1');

      const again = await sendV1(sender.client, 'the first text', 'reuse-1');
      assert.equal(again.type, 'ack', 'a retry of the first message');
      assert.equal(again.id, first, 'acked with the first id');

      const marker = await postV1(sender.client, 'marker', 'reuse-marker');
      assert.equal(
        (await nextOfType(observer.client, 'message')).id,
        marker,
        'nothing was delivered before the marker',
      );
      assert.deepEqual(
        (await roomHistory(server.httpUrl, room)).map((m) => [m.text, m.clientMsgId]),
        [
          ['the first text', 'reuse-1'],
          ['marker', 'reuse-marker'],
        ],
        'nothing else was stored',
      );
      sender.client.close();
      observer.client.close();
    });

    if (engine === 'redis') {
      test('a retry guard of the previous release (the sent key holds only the id) still marks a duplicate: acked with that id, nothing stored', async () => {
        const room = 'rules_old_guard';
        const sender = await connectV1(server.wsUrl, room, { name: 'Sender' });
        const earlier = await postV1(sender.client, 'stored by the previous release', 'old-0');
        // As the previous release wrote it: the id alone, no text hash.
        const admin = new Redis(redis!.url);
        try {
          await admin.set(sentKey(room, sender.welcome.you.id, 'old-1'), earlier, 'PX', 60_000);
        } finally {
          admin.disconnect();
        }
        const reply = await sendV1(sender.client, 'any text: the old guard has no hash to compare', 'old-1');
        assert.equal(reply.type, 'ack', JSON.stringify(reply));
        assert.equal(reply.id, earlier, 'acked with the id the guard holds');
        const marker = await postV1(sender.client, 'marker');
        assert.deepEqual(
          (await roomHistory(server.httpUrl, room)).map((m) => m.id),
          [earlier, marker],
          'nothing was stored for the retry',
        );
        sender.client.close();
      });
    }

    test('message ids at the edges: since=0-0 recovers from the start, before=0-0 is an empty page, after=0-0 starts at the first message', async () => {
      const room = `rules_ids_${engine}`;
      const writer = await connectV1(server.wsUrl, room, { name: 'Writer' });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await postV1(writer.client, `first ${i}`));

      const { client, welcome } = await connectV1(server.wsUrl, room, { name: 'Reader', since: '0-0' });
      assert.equal(welcome.recovered, true, 'nothing is missing after 0-0');
      assert.deepEqual(
        welcome.history.map((m: any) => m.id),
        ids,
        'the history from the start',
      );
      client.close();

      const before = await fetch(`${server.httpUrl}/api/rooms/${room}/messages?before=0-0`);
      assert.equal(before.status, 200);
      const page = await json(before);
      assert.deepEqual(page.messages, []);
      assert.equal(page.hasMore, false);

      const afterRes = await fetch(`${server.httpUrl}/api/rooms/${room}/messages?after=0-0&limit=2`);
      assert.equal(afterRes.status, 200);
      const afterPage = await json(afterRes);
      assert.deepEqual(
        afterPage.messages.map((m: any) => m.id),
        ids.slice(0, 2),
      );
      assert.equal(afterPage.recovered, true);
      assert.equal(afterPage.hasNewer, true);

      // The largest id there is: nothing is after it, everything is before it.
      const max = '18446744073709551615-18446744073709551615';
      const beforeMax = await json(await fetch(`${server.httpUrl}/api/rooms/${room}/messages?before=${max}`));
      assert.deepEqual(
        beforeMax.messages.map((m: any) => m.id),
        ids,
      );
      const afterMaxRes = await fetch(`${server.httpUrl}/api/rooms/${room}/messages?after=${max}`);
      assert.equal(afterMaxRes.status, 200, 'an id from the future is not a server error');
      writer.client.close();
    });

    test('message ids past 2^64 or malformed: since → invalid_since and 4400; before/after → 400 bad_request, never 503', async () => {
      const room = `rules_bad_ids_${engine}`;
      const writer = await connectV1(server.wsUrl, room, { name: 'Writer' });
      await postV1(writer.client, 'something to read');

      for (const since of ['18446744073709551616-0', '0-18446744073709551616', '99999999999999999999-0', '1-', 'x-1']) {
        const client = await TestClient.connect(`${server.wsUrl}/ws/chat/${room}/?name=Reader&since=${since}`, {
          protocols: ['parley.v1'],
        });
        const frame = await client.next();
        assert.equal(frame.code, 'invalid_since', since);
        assert.equal((await client.waitClose()).code, 4400, since);
      }

      const bad = [
        '18446744073709551616-0',
        '0-18446744073709551616',
        '18446744073709551615-18446744073709551616',
        '99999999999999999999-0',
        '123456789012345678901-0',
        '1-',
        '-1',
        '1.5-0',
        '1-0-0',
        'abc',
        '',
        '1e3-0',
        '%2B1-0',
      ];
      for (const param of ['before', 'after']) {
        for (const id of bad) {
          const res = await fetch(`${server.httpUrl}/api/rooms/${room}/messages?${param}=${id}`);
          const body = await json(res);
          assert.equal(res.status, 400, `${param}=${id}: ${JSON.stringify(body)}`);
          assert.equal(body.error, 'bad_request', `${param}=${id}`);
        }
      }
      writer.client.close();
    });

    test('ids written with leading zeros are either refused or read as the numbers they are (never as larger ones)', async () => {
      const room = `rules_zeros_${engine}`;
      const writer = await connectV1(server.wsUrl, room, { name: 'Writer' });
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push(await postV1(writer.client, `z${i}`));
      // 00000000000000000001-0 is 1-0, before the first message; 000…0 + an id is that id.
      const zeros = '00000000000000000001-0';
      const paddedFirst = `0${ids[0]}`;
      const problems: string[] = [];
      const check = async (query: string, expected: { ids: string[]; recovered?: boolean }) => {
        const res = await fetch(`${server.httpUrl}/api/rooms/${room}/messages?${query}`);
        const body = await json(res);
        if (res.status === 400 && body.error === 'bad_request') return; // refused: fine too
        assert.equal(res.status, 200, `${query}: ${JSON.stringify(body)}`);
        const got = body.messages.map((m: any) => m.id);
        if (JSON.stringify(got) !== JSON.stringify(expected.ids))
          problems.push(`${query}: got ${got.length} messages, expected ${expected.ids.length}`);
        if (expected.recovered !== undefined && body.recovered !== expected.recovered)
          problems.push(`${query}: recovered ${body.recovered}`);
      };
      await check(`before=${zeros}`, { ids: [] });
      await check(`after=${zeros}`, { ids, recovered: true });
      await check(`before=${paddedFirst}`, { ids: [] });
      await check(`after=${paddedFirst}`, { ids: ids.slice(1), recovered: true });
      for (const since of [zeros, paddedFirst]) {
        const client = await TestClient.connect(`${server.wsUrl}/ws/chat/${room}/?name=Reader&since=${since}`, {
          protocols: ['parley.v1'],
        });
        const frame = await client.next();
        if (frame.type === 'error') {
          assert.equal(frame.code, 'invalid_since');
        } else {
          const expected = since === zeros ? ids : ids.slice(1);
          if (JSON.stringify(frame.history.map((m: any) => m.id)) !== JSON.stringify(expected))
            problems.push(`since=${since}: got ${frame.history.length} messages, expected ${expected.length}`);
          if (frame.recovered !== true) problems.push(`since=${since}: recovered ${frame.recovered}`);
        }
        client.close();
      }
      assert.deepEqual(problems, [], 'ids with leading zeros compared as if they were larger numbers');
      writer.client.close();
    });
  });
}
