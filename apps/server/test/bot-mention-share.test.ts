import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { ConfigError, loadConfig } from '../src/config.ts';
import { metric, startApp, type RunningApp } from './helpers/app.ts';
import { eventually } from './helpers/crowd.ts';
import { NEIGHBOUR_ADDRESS } from './helpers/neighbour.ts';
import { answer, TestReceiver, type Received } from './helpers/receiver.ts';
import { connectV1, json, postV1 } from './helpers/ws-client.ts';

/**
 * The bots' mentions' queue has a share per sender address (BOT_MENTION_QUEUE_PER_ADDRESS), as
 * the rooms' webhooks have one per room: one address mentioning bots whose receiver is slow
 * cannot fill the queue (WEBHOOK_QUEUE_MAX) and have every other address's mentions dropped.
 * Real app, real sockets (the neighbour on another loopback address, another address key), a
 * real receiver that holds its requests until the test answers them.
 */

const ADMIN_TOKEN = 'operator-token-for-the-mention-share-tests';
const operator = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const DROPPED_SHARE = 'parley_bot_mention_dropped_total{reason="address_share"}';
const DROPPED_FULL = 'parley_bot_mention_dropped_total{reason="queue_full"}';
const DROPPED_TOO_LARGE = 'parley_bot_mention_dropped_total{reason="too_large"}';
const QUEUE = 'parley_bot_mention_queue';

async function makeBot(app: RunningApp, name: string, webhookUrl: string): Promise<void> {
  const res = await fetch(`${app.httpUrl}/api/admin/bots`, {
    method: 'POST',
    headers: operator,
    body: JSON.stringify({ name, webhookUrl }),
  });
  assert.equal(res.status, 201, JSON.stringify(await json(res)));
}

/** A receiver that answers nothing until told: each request is held with its response. */
async function holdingReceiver() {
  const receiver = await TestReceiver.start();
  const held: Array<{ request: Received; res: ServerResponse }> = [];
  receiver.handler = (request, res) => {
    held.push({ request, res });
  };
  /** Answers (by default 200, nothing to say) the requests held about `room`, or all of them. */
  const release = (room?: string, status = 200) => {
    for (let i = held.length - 1; i >= 0; i--) {
      if (room !== undefined && held[i]!.request.json?.room !== room) continue;
      answer(held[i]!.res, status, {});
      held.splice(i, 1);
    }
  };
  const mentionsIn = (room: string) =>
    receiver.received.filter((r) => r.json?.event === 'mention' && r.json.room === room).length;
  return { receiver, release, mentionsIn };
}

/** An app whose mention queue holds 6 deliveries in all, with the given share per address. */
async function appWith(t: TestContext, receiver: TestReceiver, share: string): Promise<RunningApp> {
  const app = await startApp(t, {
    ADMIN_TOKEN,
    WEBHOOK_ALLOW_PRIVATE: '1',
    // Small, so that without a share one address fills it.
    WEBHOOK_QUEUE_MAX: '6',
    WEBHOOK_CONCURRENCY: '8',
    WEBHOOK_TIMEOUT_MS: '30000',
    WEBHOOK_MAX_ATTEMPTS: '1',
    BOT_MENTION_QUEUE_PER_ADDRESS: share,
  });
  await makeBot(app, 'Slow Bot', receiver.url);
  await makeBot(app, 'Busy Bot', receiver.url);
  return app;
}

describe('the bots’ mentions’ share per address', () => {
  test('one address’s mentions beyond its share are dropped and counted; another address’s still go out; the share is freed as deliveries end', async (t) => {
    const { receiver, release, mentionsIn } = await holdingReceiver();
    // Closed last (after the app): every request still held is answered first.
    t.after(async () => {
      release();
      await receiver.close();
    });
    const app = await appWith(t, receiver, '3');
    t.after(() => release());

    const { client: alice } = await connectV1(app.wsUrl, 'share_a', { name: 'Alice' });
    const { client: nina } = await connectV1(app.wsUrl, 'share_b', { name: 'Nina', localAddress: NEIGHBOUR_ADDRESS });
    t.after(() => {
      alice.close();
      nina.close();
    });

    // Two deliveries (one message naming two bots), then one, then six over the share of 3:
    // every message is acked (posted), only the mentions are dropped.
    await postV1(alice, '@slow bot and @busy bot, status?', 'a1');
    for (let i = 2; i <= 8; i++) await postV1(alice, `@slow bot ping ${i}`, `a${i}`);
    await eventually(() => mentionsIn('share_a') === 3, '3 of Alice’s mentions arrive', 5000);
    await sleep(200);
    assert.equal(mentionsIn('share_a'), 3, 'the share: 3 held (in flight) at once');
    assert.equal(await metric(app, DROPPED_SHARE), 6, 'the 6 beyond the share are counted as dropped');
    assert.equal(await metric(app, QUEUE), 3);

    // Another address: its own share, and room in the queue.
    await postV1(nina, '@slow bot hello from next door', 'n1');
    await eventually(() => mentionsIn('share_b') === 1, 'Nina’s mention arrives', 5000);
    assert.equal(await metric(app, DROPPED_SHARE), 6, 'nothing of the neighbour’s is dropped');
    assert.equal(await metric(app, QUEUE), 4);
    // Alice is still over hers (Nina's delivery held is not hers).
    await postV1(alice, '@slow bot still there?', 'a9');
    await sleep(100);
    assert.equal(await metric(app, DROPPED_SHARE), 7);

    // Alice's deliveries end, given up (a 500 with one attempt): her share is free again, Nina's still held.
    release('share_a', 500);
    await eventually(async () => (await metric(app, QUEUE)) === 1, 'Alice’s deliveries ended', 5000);
    for (let i = 10; i <= 13; i++) await postV1(alice, `@slow bot again ${i}`, `a${i}`);
    await eventually(() => mentionsIn('share_a') === 6, '3 more of Alice’s mentions arrive', 5000);
    await sleep(200);
    assert.equal(mentionsIn('share_a'), 6);
    assert.equal(await metric(app, DROPPED_SHARE), 8, 'the fourth over the freed share is dropped');
    assert.equal(await metric(app, QUEUE), 4);

    release();
    await eventually(async () => (await metric(app, QUEUE)) === 0, 'every delivery ended', 5000);
    assert.equal(await metric(app, 'parley_bot_mention_deliveries_total{outcome="failed"}'), 3);
    assert.equal(await metric(app, 'parley_bot_mention_deliveries_total{outcome="delivered"}'), 4);
    // Freed again after deliveries that succeeded: the full share goes out.
    for (let i = 14; i <= 16; i++) await postV1(alice, `@busy bot last ${i}`, `a${i}`);
    await eventually(() => mentionsIn('share_a') === 9, '3 more of Alice’s mentions arrive', 5000);
    assert.equal(await metric(app, DROPPED_SHARE), 8);
    assert.equal(await metric(app, DROPPED_FULL), 0, 'the queue itself was never full');
    assert.equal(await metric(app, DROPPED_TOO_LARGE), 0);
  });

  test('BOT_MENTION_QUEUE_PER_ADDRESS=0: no share, only the queue’s total', async (t) => {
    const { receiver, release, mentionsIn } = await holdingReceiver();
    t.after(async () => {
      release();
      await receiver.close();
    });
    const app = await appWith(t, receiver, '0');
    t.after(() => release());
    const { client } = await connectV1(app.wsUrl, 'share_none', { name: 'Olga' });
    t.after(() => client.close());
    for (let i = 1; i <= 8; i++) await postV1(client, `@busy bot ${i}`, `o${i}`);
    await eventually(() => mentionsIn('share_none') === 6, '6 mentions arrive', 5000);
    assert.equal(await metric(app, DROPPED_FULL), 2, 'beyond WEBHOOK_QUEUE_MAX (6)');
    assert.equal(await metric(app, DROPPED_SHARE), 0, 'no share to be over');
  });

  test('a mention whose delivery is over WEBHOOK_MAX_BODY_BYTES is dropped and counted as too_large', async (t) => {
    const { receiver, release, mentionsIn } = await holdingReceiver();
    t.after(async () => {
      release();
      await receiver.close();
    });
    const app = await startApp(t, { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_MAX_BODY_BYTES: '1024' });
    await makeBot(app, 'Slow Bot', receiver.url);
    const { client } = await connectV1(app.wsUrl, 'share_large', { name: 'Pia' });
    t.after(() => client.close());
    await postV1(client, `@slow bot ${'x'.repeat(1100)}`, 'p1');
    await postV1(client, '@slow bot short', 'p2');
    await eventually(() => mentionsIn('share_large') === 1, 'the short mention arrives', 5000);
    assert.equal(await metric(app, DROPPED_TOO_LARGE), 1);
    assert.equal(await metric(app, DROPPED_SHARE), 0);
    assert.equal(await metric(app, DROPPED_FULL), 0);
  });

  test('the setting: 100 by default, 0 allowed, bounded', () => {
    assert.equal(loadConfig({}).botMentionQueuePerAddress, 100);
    assert.equal(loadConfig({ BOT_MENTION_QUEUE_PER_ADDRESS: '0' }).botMentionQueuePerAddress, 0);
    assert.equal(loadConfig({ BOT_MENTION_QUEUE_PER_ADDRESS: '5' }).botMentionQueuePerAddress, 5);
    for (const bad of ['-1', '2.5', 'many', '1000001'])
      assert.throws(
        () => loadConfig({ BOT_MENTION_QUEUE_PER_ADDRESS: bad }),
        (err: unknown) => err instanceof ConfigError && /BOT_MENTION_QUEUE_PER_ADDRESS/.test(err.message),
      );
  });
});
