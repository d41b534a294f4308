import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Redis } from 'ioredis';
import { compareMessageIds, tokenProtocol } from '@parley/protocol';
import { startApp, type RunningApp } from './helpers/app.ts';
import { TestRedis } from './helpers/redis-server.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, nextOfType, postV1, type TestClient } from './helpers/ws-client.ts';
import { roomKeys } from '../src/engine/redis-keys.ts';

/**
 * Recovery after a reconnect: the welcome carries the first page of what was missed (bounded in
 * count and bytes, `hasNewer: true`), the client pages the rest with `GET ...?after=`, and the
 * union with what arrives live is every message once, in order. Also: `after` pages past a
 * trimmed stretch, and the hub's own read-back after a pub/sub gap longer than one page.
 */

/** Texts of exactly this many UTF-8 bytes make the byte cap, not the count, cut a page. */
const BIG_TEXT_BYTES = 4000;

/** Message `i`: short, or padded with ASCII to exactly BIG_TEXT_BYTES bytes. */
function textOf(i: number, big: boolean): string {
  const head = `m${i}`;
  return big ? `${head} ${'x'.repeat(BIG_TEXT_BYTES - head.length - 1)}` : head;
}

/** A v1 socket that keeps every frame exactly as received (for byte counts), from the first. */
class Recorder {
  readonly raw: string[] = [];
  closeCode: number | undefined;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => this.raw.push(data.toString()));
    socket.on('close', (code) => {
      this.closeCode = code;
    });
  }

  static async open(
    wsUrl: string,
    room: string,
    options: { name: string; token?: string; since?: string },
  ): Promise<Recorder> {
    const query = new URLSearchParams({ name: options.name });
    if (options.since !== undefined) query.set('since', options.since);
    const protocols = ['parley.v1', ...(options.token === undefined ? [] : [tokenProtocol(options.token)])];
    const socket = new WebSocket(`${wsUrl}/ws/chat/${encodeURIComponent(room)}/?${query}`, protocols);
    const recorder = new Recorder(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await recorder.waitFor(() => recorder.raw.length > 0, 5000, 'the welcome');
    return recorder;
  }

  /** Every frame received, parsed. */
  get frames(): any[] {
    return this.raw.map((text) => JSON.parse(text));
  }

  /** The message frames received after the welcome (live delivery). */
  get live(): any[] {
    return this.frames.slice(1).filter((frame) => frame.type === 'message');
  }

  async waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (this.closeCode !== undefined) throw new Error(`socket closed (${this.closeCode}) while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** Sends every text at once with ids `<prefix><i>`, waits for all acks, and returns the ids in send order. */
async function postMany(client: TestClient, texts: readonly string[], prefix: string): Promise<string[]> {
  texts.forEach((text, i) => client.send({ type: 'message', text, clientMsgId: `${prefix}${i}` }));
  const ids: string[] = new Array(texts.length);
  let acked = 0;
  while (acked < texts.length) {
    const frame = await client.next(15_000);
    if (frame.type === 'error') throw new Error(`${frame.code}: ${frame.message}`);
    if (frame.type === 'ack' && frame.clientMsgId.startsWith(prefix)) {
      ids[Number(frame.clientMsgId.slice(prefix.length))] = frame.id;
      acked += 1;
    }
  }
  return ids;
}

/** Fetches one `after` page; returns it with the byte length of its body. */
async function afterPage(
  httpUrl: string,
  room: string,
  after: string,
  limit = 200,
): Promise<{ page: any; bytes: number }> {
  const res = await fetch(`${httpUrl}/api/rooms/${encodeURIComponent(room)}/messages?after=${after}&limit=${limit}`);
  const body = await res.text();
  assert.equal(res.status, 200, body);
  return { page: JSON.parse(body), bytes: Buffer.byteLength(body) };
}

/**
 * The paging tests check that pages are cut by bytes at about HISTORY_PAGE_MAX_BYTES; whether
 * the bound is exact is the business of the byte-bound test alone.
 */
const LOOSE_BOUND = 1.05;

/** Bytes of a list of messages as JSON (what a welcome or page spends on history). */
const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));

function assertStrictlyIncreasing(ids: readonly string[], what: string): void {
  for (let i = 1; i < ids.length; i++) {
    assert.ok(compareMessageIds(ids[i - 1]!, ids[i]!) < 0, `${what}: ${ids[i - 1]} before ${ids[i]} (position ${i})`);
  }
}

const setups = [
  { label: 'the memory engine', engine: 'memory', twoInstances: false },
  { label: 'the Redis engine', engine: 'redis', twoInstances: false },
  { label: 'two instances on one Redis (the reconnect lands on the other)', engine: 'redis', twoInstances: true },
] as const;

for (const setup of setups) {
  describe(`recovery over ${setup.label}`, () => {
    let redis: TestRedis | undefined;
    /** Where the writer and the reader first are. */
    let a: RunningApp;
    /** Where the reader reconnects (a itself on one instance). */
    let b: RunningApp;
    const tag = `${setup.engine}${setup.twoInstances ? '_x' : ''}`;
    const apps: RunningApp[] = [];

    before(async () => {
      if (setup.engine === 'redis') redis = await TestRedis.start();
      // Room for 1,000 missed messages and the ones around them.
      const env = { REDIS_URL: redis?.url, HISTORY_LENGTH: '2000' };
      a = await startApp(undefined, env);
      apps.push(a);
      b = setup.twoInstances ? await startApp(undefined, env) : a;
      if (b !== a) apps.push(b);
    });
    after(async () => {
      for (const app of apps) await app.app.close();
      await redis?.stop();
    });

    test('a reconnect after 1,000 missed messages recovers all of them in order, no gap, no duplicate; messages posted during the paging arrive live', async () => {
      const room = `recover_${tag}`;
      const { recoveryPageSize, historyPageMaxBytes } = b.config;
      assert.equal(recoveryPageSize, 200, 'the default RECOVERY_PAGE_SIZE');
      assert.equal(historyPageMaxBytes, 256 * 1024, 'the default HISTORY_PAGE_MAX_BYTES');

      const writer = await connectV1(a.wsUrl, room, { name: 'Writer' });
      const reader = await connectV1(a.wsUrl, room, { name: 'Reader' });
      const seenId = await postV1(writer.client, 'the last one the reader saw');
      assert.equal((await nextOfType(reader.client, 'message')).id, seenId);
      reader.client.close();
      await reader.client.waitClose();

      // 1,000 missed: 300 short, 400 of 4,000 bytes (the byte cap cuts those pages), 300 short.
      // A watcher on the instance the reader comes back to tells when that instance has delivered
      // them all: an ack can come before the bus has brought the message to every instance, and
      // a reconnect before that would (rightly) get the stragglers live as well.
      const watcher = await connectV1(b.wsUrl, room, { name: 'Watcher' });
      let watched = '';
      watcher.client.socket.on('message', (data) => {
        const frame = JSON.parse(data.toString());
        if (frame.type === 'message') watched = frame.id;
      });
      const texts = Array.from({ length: 1000 }, (_, i) => textOf(i, i >= 300 && i < 700));
      const missed = await postMany(writer.client, texts, 'miss');
      assertStrictlyIncreasing(missed, 'the acked ids');
      for (let waited = 0; watched !== missed.at(-1) && waited < 10_000; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(watched, missed.at(-1), 'the instance delivered every missed message');

      const back = await Recorder.open(b.wsUrl, room, { name: 'Reader', token: reader.welcome.token, since: seenId });
      const welcomeRaw = back.raw[0]!;
      const welcome = JSON.parse(welcomeRaw);
      assert.equal(welcome.type, 'welcome');
      assert.equal(welcome.you.id, reader.welcome.you.id, 'the same person');
      assert.equal(welcome.recovered, true);
      assert.equal(welcome.hasNewer, true, 'more was missed than one welcome carries');
      assert.equal(welcome.history.length, recoveryPageSize, 'the welcome stops at RECOVERY_PAGE_SIZE');
      // Bounded in bytes (the exact bound, for every kind of text, has a test of its own below).
      assert.ok(
        Buffer.byteLength(welcomeRaw) <= LOOSE_BOUND * historyPageMaxBytes,
        `welcome frame: ${Buffer.byteLength(welcomeRaw)} bytes`,
      );

      const fromPages: any[] = [...welcome.history];
      const during: string[] = [];
      let afterId: string = welcome.history.at(-1).id;
      let pages = 0;
      let cutByBytes = 0;
      for (;;) {
        const { page, bytes } = await afterPage(b.httpUrl, room, afterId);
        pages += 1;
        assert.ok(pages <= 100, 'paging ends');
        assert.equal(page.recovered, true, `page ${pages} follows its after id`);
        assert.ok(
          page.messages.length >= 1 && page.messages.length <= 200,
          `page ${pages}: ${page.messages.length} messages`,
        );
        assert.ok(bytes <= LOOSE_BOUND * historyPageMaxBytes, `page ${pages}: a body of ${bytes} bytes`);
        if (page.hasNewer && page.messages.length < 200) cutByBytes += 1;
        fromPages.push(...page.messages);
        if (!page.hasNewer) break;
        // Someone keeps talking while the reader catches up.
        if (during.length < 5) during.push(await postV1(writer.client, `during ${during.length}`));
        afterId = page.messages.at(-1).id;
      }
      assert.ok(cutByBytes >= 5, `pages of 4,000-byte texts were cut by HISTORY_PAGE_MAX_BYTES (${cutByBytes} were)`);
      assert.equal(during.length, 5);

      // The welcome and the pages: every missed message, then the ones posted meanwhile, each once, in order.
      const pagedIds = fromPages.map((m) => m.id);
      assertStrictlyIncreasing(pagedIds, 'welcome + pages');
      assert.deepEqual(pagedIds, [...missed, ...during], 'no gap, no duplicate');
      assert.deepEqual(
        fromPages.slice(0, 1000).map((m) => m.text),
        texts,
        'the texts too',
      );

      // Live: exactly the messages posted after the reconnect, in order, none of the history again.
      await back.waitFor(() => back.live.length >= during.length, 5000, 'the live messages');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(
        back.live.map((m) => m.id),
        during,
        'live delivery: the new messages once each, nothing replayed',
      );
      const union = [...new Set([...pagedIds, ...back.live.map((m) => m.id)])].sort(compareMessageIds);
      assert.deepEqual(union, [...missed, ...during], 'the union is complete and ordered');
      writer.client.close();
      watcher.client.close();
      back.close();
    });

    // Three kinds of 4,000-byte text: ASCII, 3-byte characters (1,333 of them), and quotes, which
    // JSON escapes to two bytes each. A page's history must stay within HISTORY_PAGE_MAX_BYTES
    // whatever the text is made of: the welcome has to fit in the socket's send buffer.
    const kinds = [
      { kind: 'ASCII', text: (i: number) => textOf(i, true) },
      { kind: '3-byte characters', text: (i: number) => `${String(i).padStart(3, '0')}${'한'.repeat(1332)}` },
      { kind: 'quotes (escaped in JSON)', text: (i: number) => `${String(i).padStart(3, '0')}${'"'.repeat(3997)}` },
    ];
    for (const { kind, text } of kinds) {
      test(`a welcome and an after page hold at most HISTORY_PAGE_MAX_BYTES of history: 4,000-byte texts of ${kind}`, async () => {
        const room = `recover_bytes_${kind.split(/\W/)[0]}_${tag}`;
        const { historyPageMaxBytes } = b.config;
        const writer = await connectV1(a.wsUrl, room, { name: 'Writer' });
        const seenId = await postV1(writer.client, 'seen');
        assert.ok(Math.abs(Buffer.byteLength(text(0)) - BIG_TEXT_BYTES) <= 1);
        await postMany(
          writer.client,
          Array.from({ length: 300 }, (_, i) => text(i)),
          'bytes',
        );

        const back = await Recorder.open(b.wsUrl, room, { name: 'Reader', since: seenId });
        const welcome = JSON.parse(back.raw[0]!);
        assert.equal(welcome.recovered, true);
        assert.equal(welcome.hasNewer, true);
        assert.ok(
          jsonBytes(welcome.history) <= historyPageMaxBytes,
          `the welcome carries ${welcome.history.length} messages, ${jsonBytes(welcome.history)} bytes of history (HISTORY_PAGE_MAX_BYTES is ${historyPageMaxBytes})`,
        );
        const { page } = await afterPage(b.httpUrl, room, seenId);
        assert.ok(
          jsonBytes(page.messages) <= historyPageMaxBytes,
          `an after page carries ${page.messages.length} messages, ${jsonBytes(page.messages)} bytes (HISTORY_PAGE_MAX_BYTES is ${historyPageMaxBytes})`,
        );
        const res = await fetch(`${b.httpUrl}/api/rooms/${room}/messages?limit=200`);
        const latest: any = await res.json();
        assert.ok(
          jsonBytes(latest.messages) <= historyPageMaxBytes,
          `the latest page carries ${latest.messages.length} messages, ${jsonBytes(latest.messages)} bytes (HISTORY_PAGE_MAX_BYTES is ${historyPageMaxBytes})`,
        );
        writer.client.close();
        back.close();
      });
    }

    test('when the room moved on too far, the welcome and the after page say recovered: false and the page starts at the oldest kept message', async (t) => {
      const room = `recover_trimmed_${tag}`;
      // An instance keeping 50 messages per room (on Redis, the trim happens where the message is posted).
      const short = await startApp(t, { REDIS_URL: redis?.url, HISTORY_LENGTH: '50' });
      const reading = setup.twoInstances ? b : short;
      const writer = await connectV1(short.wsUrl, room, { name: 'Writer' });
      const ids = await postMany(
        writer.client,
        Array.from({ length: 80 }, (_, i) => `t${i}`),
        'trim',
      );

      // The reader had t5; t6..t29 are gone.
      const back = await Recorder.open(reading.wsUrl, room, { name: 'Reader', since: ids[5] });
      const welcome = JSON.parse(back.raw[0]!);
      assert.equal(welcome.recovered, false, 'a gap: the welcome says so');
      assert.deepEqual(
        welcome.history.map((m: any) => m.text),
        Array.from({ length: 50 }, (_, i) => `t${30 + i}`),
        'the latest messages',
      );

      const first = (await afterPage(reading.httpUrl, room, ids[5]!, 20)).page;
      assert.equal(first.recovered, false, 'the after page says there is a gap before it');
      assert.deepEqual(
        first.messages.map((m: any) => m.text),
        Array.from({ length: 20 }, (_, i) => `t${30 + i}`),
        'from the oldest kept message',
      );
      assert.equal(first.hasNewer, true);
      // From there on, the pages follow each other without a gap.
      const second = (await afterPage(reading.httpUrl, room, first.messages.at(-1).id, 20)).page;
      assert.equal(second.recovered, true);
      assert.deepEqual(
        second.messages.map((m: any) => m.text),
        Array.from({ length: 20 }, (_, i) => `t${50 + i}`),
      );
      assert.equal(second.hasNewer, true);
      const third = (await afterPage(reading.httpUrl, room, second.messages.at(-1).id, 20)).page;
      assert.equal(third.recovered, true);
      assert.deepEqual(
        third.messages.map((m: any) => m.text),
        Array.from({ length: 10 }, (_, i) => `t${70 + i}`),
      );
      assert.equal(third.hasNewer, false);
      writer.client.close();
      back.close();
    });

    test('scrolling back through a trimmed room ends: the page before the oldest kept message is empty and says hasMore: false', async (t) => {
      const room = `scrollback_${tag}`;
      const short = await startApp(t, { REDIS_URL: redis?.url, HISTORY_LENGTH: '50' });
      const reading = setup.twoInstances ? b : short;
      const writer = await connectV1(short.wsUrl, room, { name: 'Writer' });
      await postMany(
        writer.client,
        Array.from({ length: 80 }, (_, i) => `s${i}`),
        'scroll',
      );

      // A client pages back while hasMore says there is more (bounded here: it must end by itself).
      const seen: string[] = [];
      let url = `${reading.httpUrl}/api/rooms/${room}/messages?limit=20`;
      let requests = 0;
      let last: any;
      for (; requests < 10;) {
        const res = await fetch(url);
        assert.equal(res.status, 200);
        last = (await res.json()) as any;
        requests += 1;
        seen.unshift(...last.messages.map((m: any) => m.text));
        if (!last.hasMore) break;
        if (last.messages.length === 0) break; // hasMore with nothing in the page: a client would loop here
        url = `${reading.httpUrl}/api/rooms/${room}/messages?limit=20&before=${last.messages[0].id}`;
      }
      assert.deepEqual(
        seen,
        Array.from({ length: 50 }, (_, i) => `s${30 + i}`),
        'every kept message, once',
      );
      assert.equal(
        last.hasMore,
        false,
        `the last page (${last.messages.length} messages, after ${requests} requests) says nothing older can be fetched`,
      );
      writer.client.close();
    });

    test('a client that missed exactly HISTORY_LENGTH messages (its since is the newest trimmed id) lost nothing: recovered: true', async (t) => {
      const room = `recover_edge_${tag}`;
      const short = await startApp(t, { REDIS_URL: redis?.url, HISTORY_LENGTH: '50' });
      const reading = setup.twoInstances ? b : short;
      const writer = await connectV1(short.wsUrl, room, { name: 'Writer' });
      const seenId = await postV1(writer.client, 'seen');
      // 50 more: "seen" is trimmed, and the log holds exactly what the reader missed.
      const missed = await postMany(
        writer.client,
        Array.from({ length: 50 }, (_, i) => `e${i}`),
        'edge',
      );

      const back = await Recorder.open(reading.wsUrl, room, { name: 'Reader', since: seenId });
      const welcome = JSON.parse(back.raw[0]!);
      assert.deepEqual(
        welcome.history.map((m: any) => m.id),
        missed,
        'every missed message is there',
      );
      assert.equal(
        welcome.recovered,
        true,
        'nothing after since was trimmed, so the welcome should not announce a gap',
      );
      const { page } = await afterPage(reading.httpUrl, room, seenId, 200);
      assert.deepEqual(
        page.messages.map((m: any) => m.id),
        missed,
      );
      assert.equal(page.recovered, true, 'nor should the after page');
      writer.client.close();
      back.close();
    });
  });
}

describe('the hub reads back a pub/sub gap longer than one backfill page (Redis, two instances)', () => {
  let redis: TestRedis;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;
  let admin: Redis;

  before(async () => {
    ({ redis, a, b, stop } = await startTwoInstances(undefined, { HISTORY_LENGTH: '5000' }));
    admin = new Redis(redis.url);
  });
  after(async () => {
    admin.disconnect();
    await stop();
  });

  /**
   * Appends `count` messages to a room's log and counts them, without publishing them: exactly
   * what the log and the sequence look like after pub/sub lost those publishes. (A real gap of
   * more than a thousand messages would need a subscriber kept away while they are posted.)
   */
  async function appendUnpublished(room: string, count: number, prefix: string): Promise<void> {
    const keys = roomKeys(room);
    const body = JSON.stringify({ room, user: { id: 'u_GhostGhost00', name: 'Ghost' }, text: `${prefix}%d` });
    await admin.eval(
      `for i = 1, tonumber(ARGV[2]) do
         local seq = redis.call('INCR', KEYS[2])
         redis.call('XADD', KEYS[1], '*', 'b', string.format(ARGV[1], i - 1), 's', seq)
       end`,
      2,
      keys.log,
      keys.seq,
      body,
      count,
    );
  }

  /** Reads `count` message frames from a client. */
  async function messages(client: TestClient, count: number): Promise<any[]> {
    const out = [];
    while (out.length < count) {
      const frame = await client.next(10_000);
      if (frame.type === 'message') out.push(frame);
    }
    return out;
  }

  test('a sequence jump of 1,500 (seen on the next live message): read back in more than one page, then the live message, in order', async () => {
    const room = 'gap_jump';
    const writer = await connectV1(a.wsUrl, room, { name: 'Writer' });
    const reader = await connectV1(b.wsUrl, room, { name: 'Reader' });
    const firstId = await postV1(writer.client, 'before the gap');
    assert.equal((await nextOfType(reader.client, 'message')).id, firstId);
    const backfilledBefore = b.app.stats.backfilledMessages;

    await appendUnpublished(room, 1500, 'lost ');
    const liveId = await postV1(writer.client, 'after the gap');

    const got = await messages(reader.client, 1501);
    assert.deepEqual(
      got.map((m) => m.text),
      [...Array.from({ length: 1500 }, (_, i) => `lost ${i}`), 'after the gap'],
      'every lost message, once, in order, then the live one',
    );
    assertStrictlyIncreasing(
      got.map((m) => m.id),
      'delivered ids',
    );
    assert.equal(got.at(-1).id, liveId);
    // More than BACKFILL_PAGE (1,000) messages came back, so the read-back took more than one page:
    // the 1,500 lost and the live one (in the log too, so read back with them and not sent twice).
    assert.equal(b.app.stats.backfilledMessages - backfilledBefore, 1501);
    await reader.client.expectSilence(200);
    writer.client.close();
    reader.client.close();
  });

  test('subscriptions restored after a disconnect: the 1,200 messages published meanwhile are read back in more than one page', async () => {
    const room = 'gap_resubscribe';
    const writer = await connectV1(a.wsUrl, room, { name: 'Writer' });
    const reader = await connectV1(b.wsUrl, room, { name: 'Reader' });
    const firstId = await postV1(writer.client, 'before the gap');
    assert.equal((await nextOfType(reader.client, 'message')).id, firstId);
    const backfilledBefore = b.app.stats.backfilledMessages;

    await appendUnpublished(room, 1200, 'missed ');
    // Every subscriber connection drops; each instance resubscribes and reads back from its last id.
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    const got = await messages(reader.client, 1200);
    assert.deepEqual(
      got.map((m) => m.text),
      Array.from({ length: 1200 }, (_, i) => `missed ${i}`),
    );
    assertStrictlyIncreasing(
      got.map((m) => m.id),
      'delivered ids',
    );
    assert.equal(b.app.stats.backfilledMessages - backfilledBefore, 1200);

    // And live delivery goes on after it, without repeats.
    const liveId = await postV1(writer.client, 'after the gap');
    const [live] = await messages(reader.client, 1);
    assert.equal(live.id, liveId);
    await reader.client.expectSilence(200);
    writer.client.close();
    reader.client.close();
  });
});
