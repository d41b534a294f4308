import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from './helpers/app.ts';
import { TestClient, connectV1 } from './helpers/ws-client.ts';

/** Sends `count` messages at once and sorts the answers into acks and refusals. */
async function burst(
  client: TestClient,
  count: number,
  prefix: string,
): Promise<{ acked: string[]; limited: string[] }> {
  for (let i = 0; i < count; i++)
    client.send({ type: 'message', text: `${prefix} ${i}`, clientMsgId: `${prefix}${i}` });
  const acked: string[] = [];
  const limited: string[] = [];
  while (acked.length + limited.length < count) {
    const frame = await client.next();
    if (frame.type === 'ack') acked.push(frame.clientMsgId);
    if (frame.type === 'error') {
      assert.equal(frame.code, 'rate_limited');
      limited.push(frame.clientMsgId);
    }
  }
  return { acked, limited };
}

test('per-connection rate limit: the burst passes, the rest is refused with rate_limited, and it refills', async (t) => {
  const { wsUrl } = await startApp(t, { RATE_LIMIT_PER_CONNECTION: '2', RATE_BURST_PER_CONNECTION: '3' });
  const { client } = await connectV1(wsUrl, 'limited', { name: 'Fast' });
  const first = await burst(client, 6, 'a');
  assert.equal(first.acked.length, 3);
  assert.deepEqual(first.limited.sort(), ['a3', 'a4', 'a5']);
  await new Promise((r) => setTimeout(r, 1100)); // two tokens come back
  const second = await burst(client, 2, 'b');
  assert.equal(second.acked.length, 2, 'the connection stays usable');
  client.close();
});

test('per-address rate limit is shared by all connections of that address', async (t) => {
  const { wsUrl } = await startApp(t, { RATE_LIMIT_PER_IP: '1', RATE_BURST_PER_IP: '2' });
  const one = await connectV1(wsUrl, 'shared_limit', { name: 'One' });
  const two = await connectV1(wsUrl, 'shared_limit', { name: 'Two' });
  const a = await burst(one.client, 2, 'x');
  const b = await burst(two.client, 2, 'y');
  assert.equal(a.acked.length + b.acked.length, 2);
  assert.equal(a.limited.length + b.limited.length, 2);
  one.client.close();
  two.client.close();
});

test('connection caps per address and in total refuse the upgrade with 429 / 503', async (t) => {
  const perIp = await startApp(t, { MAX_CONNECTIONS_PER_IP: '2' });
  const url = `${perIp.wsUrl}/ws/chat/capped/`;
  const first = await TestClient.connect(url);
  const second = await TestClient.connect(url);
  await assert.rejects(TestClient.connect(url), /HTTP 429/);
  first.close();
  await first.waitClose();
  const third = await TestClient.connect(url);
  second.close();
  third.close();

  const total = await startApp(t, { MAX_CONNECTIONS: '1' });
  const only = await TestClient.connect(`${total.wsUrl}/ws/chat/full/`);
  await assert.rejects(TestClient.connect(`${total.wsUrl}/ws/chat/full/`), /HTTP 503/);
  only.close();
});

test('/metrics reports connections, messages, errors, bus round trip and event-loop lag', async (t) => {
  const { wsUrl, httpUrl } = await startApp(t);
  const { client } = await connectV1(wsUrl, 'metered', { name: 'M' });
  const reference = await TestClient.connect(`${wsUrl}/ws/chat/metered/`);
  client.send({ type: 'message', text: 'counted', clientMsgId: 'm1' });
  client.send('not json');
  while ((await client.next()).type !== 'error');
  await reference.next();
  const res = await fetch(`${httpUrl}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
  const body = await res.text();
  const value = (pattern: string) => Number(body.match(new RegExp(`^${pattern} (\\S+)$`, 'm'))?.[1]);
  assert.equal(value('parley_connections\\{protocol="parley.v1"\\}'), 1);
  assert.equal(value('parley_connections\\{protocol="reference"\\}'), 1);
  assert.equal(value('parley_messages_in_total'), 1);
  assert.equal(value('parley_messages_out_total'), 2, 'one frame each to the two sockets');
  assert.equal(value('parley_errors_total\\{code="bad_json"\\}'), 1);
  assert.equal(value('parley_rooms'), 1);
  assert.equal(value('parley_bus_degraded'), 0);
  assert.match(body, /^parley_bus_roundtrip_seconds_count\{engine="memory"\} 1$/m);
  assert.match(body, /^parley_process_nodejs_eventloop_lag_seconds /m);
  assert.match(body, /^parley_send_buffer_drops_total 0$/m);
  client.close();
  reference.close();
});

/** Frames and socket writes the server made so far, from its metrics. */
async function writeCounters(httpUrl: string): Promise<{ frames: number; writes: number }> {
  const body = await (await fetch(`${httpUrl}/metrics`)).text();
  const value = (name: string) => Number(body.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
  return { frames: value('parley_frames_out_total'), writes: value('parley_socket_writes_total') };
}

test("a sender's ack shares one socket write with the echo of its message", async (t) => {
  const { wsUrl, httpUrl } = await startApp(t);
  const { client } = await connectV1(wsUrl, 'one_write', { name: 'W' });
  // A quiet room: the batch of W's own arrival goes 25 ms after it, and a message within 5 ms of
  // a room's write waits for the next flush (and the ack goes alone). Let that pass first.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const counters = () => writeCounters(httpUrl);
  const before = await counters();
  client.send({ type: 'message', text: 'together', clientMsgId: 'w1' });
  const first = await client.next();
  const second = await client.next();
  assert.deepEqual([first.type, second.type], ['ack', 'message'], 'the ack comes first');
  assert.equal(second.id, first.id);
  const after = await counters();
  assert.equal(after.frames - before.frames, 2);
  assert.equal(after.writes - before.writes, 1, 'two frames, one write');
  client.close();
});

test('a burst of arrivals costs each socket a few writes, and everyone still learns of everyone', async (t) => {
  const { wsUrl, httpUrl } = await startApp(t);
  const before = await writeCounters(httpUrl);
  const people = 40;
  // All at once, like a restarted instance's clients coming back: newcomers are still being set
  // up while the others' arrivals reach the room, and their own arrival is in those batches.
  const joined = await Promise.all(
    Array.from({ length: people }, (_, i) => connectV1(wsUrl, 'storm', { name: `P${i}` })),
  );
  for (const { client, welcome } of joined) {
    const known = new Set<string>(welcome.members.map((m: { id: string }) => m.id));
    // Presence waits up to 25 ms for company; read until everyone's arrival came through.
    while (known.size < people) {
      const frame = await client.next(2000);
      if (frame.type === 'join') known.add(frame.user.id);
    }
    assert.equal(known.size, people);
  }
  const after = await writeCounters(httpUrl);
  const writes = after.writes - before.writes;
  // One frame per arrival per socket would be about people² / 2 writes (800 here); batched, a
  // few per socket (a busy machine spreads the arrivals over more batches: 128 seen once).
  assert.ok(writes <= 4 * people, `${writes} writes for ${people} arrivals (${after.frames - before.frames} frames)`);
  for (const { client } of joined) client.close();
});
