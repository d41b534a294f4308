import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_BOT_MENTIONS_PER_MESSAGE } from '@parley/protocol';
import { verifySignature } from '../src/integrations/signing.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { answer, TestReceiver, type Received } from './helpers/receiver.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, json, nextOfType, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * Bots' mentions (issue 17): a bot with a webhook URL is told, by a signed POST, of each message
 * that mentions it (`@<name>`), and its JSON answer `{"text": …}` is posted to the room as the
 * bot, through the bot API's path, once per mention however often the delivery is repeated.
 * Real receivers on 127.0.0.1 (so the apps allow private addresses, except where the refusal is
 * the point), real sockets.
 */

const ADMIN_TOKEN = 'operator-token-for-the-mention-tests-0123';
const operator = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface MadeBot {
  id: string;
  key: string;
  webhookSecret: string;
}

async function makeBot(app: RunningApp, name: string, webhookUrl?: string): Promise<MadeBot> {
  const res = await fetch(`${app.httpUrl}/api/admin/bots`, {
    method: 'POST',
    headers: operator,
    body: JSON.stringify({ name, ...(webhookUrl !== undefined ? { webhookUrl } : {}) }),
  });
  const body = await json(res);
  assert.equal(res.status, 201, JSON.stringify(body));
  return { id: body.bot.id, key: body.key, webhookSecret: body.webhookSecret };
}

/** The messages of a room's history, oldest first. */
async function history(app: RunningApp, room: string): Promise<any[]> {
  return (await json(await fetch(`${app.httpUrl}/api/rooms/${room}/messages?limit=50`))).messages;
}

/** The mention deliveries about one room so far. */
const mentionsIn = (receiver: TestReceiver, room: string): Received[] =>
  receiver.received.filter((r) => r.json?.event === 'mention' && r.json.room === room);

async function waitForMentions(receiver: TestReceiver, room: string, count: number, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  while (mentionsIn(receiver, room).length < count) {
    if (Date.now() > deadline) throw new Error(`${mentionsIn(receiver, room).length} of ${count} mentions`);
    await sleep(20);
  }
  return mentionsIn(receiver, room);
}

/** The next message frame a client gets from a bot (its own echoes skipped). */
async function nextBotMessage(client: TestClient, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = await nextOfType(client, 'message', Math.max(1, deadline - Date.now()));
    if (frame.user.bot === true) return frame;
  }
}

/** What the operator's page says about a bot's webhook. */
async function statusOf(app: RunningApp, botId: string): Promise<any> {
  const res = await fetch(`${app.httpUrl}/api/admin/webhooks`, { headers: operator });
  assert.equal(res.status, 200);
  return (await json(res)).webhooks.find((w: any) => w.id === botId);
}

describe('bots’ mentions on one instance', () => {
  let receiver: TestReceiver;
  let app: RunningApp;
  let echo: MadeBot;

  before(async () => {
    receiver = await TestReceiver.start();
    app = await startApp(undefined, {
      ADMIN_TOKEN,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_TIMEOUT_MS: '400',
      WEBHOOK_RETRY_BASE_MS: '50',
      WEBHOOK_MAX_ATTEMPTS: '3',
    });
    echo = await makeBot(app, 'Echo Bot', receiver.url);
  });
  after(async () => {
    await app.app.close();
    await receiver.close();
  });

  test('a mention reaches the bot’s URL, signed; its answer is posted to the room as the bot', async () => {
    const room = 'bm_reply';
    receiver.handler = (request, res) => answer(res, 200, { text: `pong to ${request.json.message.user.name}` });
    const { client, welcome } = await connectV1(app.wsUrl, room, { name: 'Alice' });
    const id = await postV1(client, 'hey @echo  BOT, ping?', 'm1');

    const [delivery] = await waitForMentions(receiver, room, 1);
    assert.ok(verifySignature(echo.webhookSecret, delivery!.headers, delivery!.body), 'signed with the bot’s secret');
    assert.equal(verifySignature('another secret of 16+ chars', delivery!.headers, delivery!.body), false);
    assert.equal(delivery!.headers['parley-event'], 'mention');
    assert.equal(delivery!.headers['parley-delivery'], delivery!.json.deliveryId);
    const { deliveryId, ...body } = delivery!.json;
    assert.match(deliveryId, /^d_[\w-]{24}$/);
    assert.deepEqual(body, {
      event: 'mention',
      room,
      ts: Number(id.split('-')[0]),
      bot: { id: echo.id, name: 'Echo Bot' },
      message: { id, user: { id: welcome.you.id, name: 'Alice' }, text: 'hey @echo  BOT, ping?', clientMsgId: 'm1' },
    });

    const reply = await nextBotMessage(client);
    assert.deepEqual(reply.user, { id: echo.id, name: 'Echo Bot', bot: true });
    assert.equal(reply.text, 'pong to Alice');
    assert.equal(reply.replyTo?.id, id, 'in answer to the mention');
    const stored = await history(app, room);
    assert.deepEqual(
      stored.map((m) => [m.user.name, m.text]),
      [
        ['Alice', 'hey @echo  BOT, ping?'],
        ['Echo Bot', 'pong to Alice'],
      ],
    );
    await sleep(300);
    assert.equal(mentionsIn(receiver, room).length, 1, 'the bot’s own message mentions nobody');
    client.close();
  });

  test('a retried delivery and a resent message post the answer once', async () => {
    const room = 'bm_retry';
    let calls = 0;
    receiver.handler = (request, res) => {
      if (request.json?.room !== room) return answer(res, 200, {});
      calls += 1;
      // A 500 first (retried), then answers, a different text each time.
      if (calls === 1) return answer(res, 500, { error: 'starting up' });
      answer(res, 200, { text: `answer ${calls}` });
    };
    const { client } = await connectV1(app.wsUrl, room, { name: 'Bob' });
    const id = await postV1(client, '@Echo Bot what time is it', 'same');
    await waitForMentions(receiver, room, 2);
    assert.equal((await nextBotMessage(client)).text, 'answer 2');
    // The client resends the message (its ack was lost, say): the same message, told again.
    assert.equal(await postV1(client, '@Echo Bot what time is it', 'same'), id);
    const deliveries = await waitForMentions(receiver, room, 3);
    assert.equal(new Set(deliveries.map((d) => d.json.deliveryId)).size, 1, 'one delivery id throughout');
    await sleep(400);
    const bots = (await history(app, room)).filter((m) => m.user.bot === true);
    assert.deepEqual(
      bots.map((m) => m.text),
      ['answer 2'],
      'one reply',
    );
    const status = await statusOf(app, echo.id);
    const [mine] = status.instances;
    assert.ok(mine.retried >= 1);
    assert.ok(
      mine.failures.some(
        (f: any) => f.status === 500 && f.retry === true && f.deliveryId === deliveries[0]!.json.deliveryId,
      ),
    );
    client.close();
  });

  test('an answer that is not JSON, or too large, posts nothing and is shown as a failure', async () => {
    const room = 'bm_bad';
    let calls = 0;
    receiver.handler = (request, res) => {
      if (request.json?.room !== room) return answer(res, 200, {});
      calls += 1;
      if (calls === 1) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('pong');
        return;
      }
      // Over 1 KiB + 6 × MAX_TEXT_BYTES.
      answer(res, 200, { text: 'x'.repeat(4000), padding: 'y'.repeat(30_000) });
    };
    const { client } = await connectV1(app.wsUrl, room, { name: 'Carol' });
    await postV1(client, '@echo bot one', 'b1');
    await postV1(client, '@echo bot two', 'b2');
    await waitForMentions(receiver, room, 2);
    await sleep(500);
    assert.equal(mentionsIn(receiver, room).length, 2, 'neither is retried: the bot would answer the same');
    assert.deepEqual(
      (await history(app, room)).map((m) => m.user.name),
      ['Carol', 'Carol'],
      'nothing posted',
    );
    const [mine] = (await statusOf(app, echo.id)).instances;
    const errors = mine.failures.map((f: any) => f.error);
    assert.ok(errors.includes('the answer is not JSON'), errors.join('; '));
    assert.ok(
      errors.some((e: string) => /^answer (of \d+ bytes, )?over \d+/.test(e)),
      errors.join('; '),
    );
    client.close();
  });

  test('a message without a mention, or by a bot, calls nothing', async () => {
    const room = 'bm_quiet';
    receiver.handler = (_request, res) => answer(res, 200, { text: 'should not be posted' });
    const { client } = await connectV1(app.wsUrl, room, { name: 'Dan' });
    await postV1(client, 'echo bot, are you there? (no @)', 'q1');
    await postV1(client, 'mail me at dan@echo bot.example', 'q2');
    await postV1(client, '@Echo Bots is another name', 'q3');
    const posted = await fetch(`${app.httpUrl}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${echo.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'I am @Echo Bot' }),
    });
    assert.equal(posted.status, 201);
    await sleep(400);
    assert.equal(mentionsIn(receiver, room).length, 0);
    assert.equal((await history(app, room)).length, 4);
    client.close();
  });

  test(`one message calls at most MAX_BOT_MENTIONS_PER_MESSAGE (${MAX_BOT_MENTIONS_PER_MESSAGE}) bots, however many it names`, async () => {
    const room = 'bm_many';
    receiver.handler = (_request, res) => answer(res, 200, {});
    const names = ['Ava', 'Bea', 'Cy', 'Dot', 'Eli', 'Fay', 'Gus'].map((name) => `${name} Helper`);
    assert.ok(names.length > MAX_BOT_MENTIONS_PER_MESSAGE);
    for (const name of names) await makeBot(app, name, receiver.url);
    const { client } = await connectV1(app.wsUrl, room, { name: 'Hal' });
    await postV1(client, names.map((name) => `@${name}`).join(' '), 'many1');
    const calls = await waitForMentions(receiver, room, MAX_BOT_MENTIONS_PER_MESSAGE);
    await sleep(400);
    assert.equal(mentionsIn(receiver, room).length, MAX_BOT_MENTIONS_PER_MESSAGE, 'no more calls than the bound');
    const called = calls.map((call) => call.json.bot.name);
    assert.equal(new Set(called).size, called.length, 'each bot at most once');
    assert.ok(called.every((name: string) => names.includes(name)));
    client.close();
  });

  test('the webhook is set and removed through the operator’s API; a new secret each time', async () => {
    const room = 'bm_set';
    const other = await TestReceiver.start();
    try {
      other.handler = (_request, res) => answer(res, 200, { text: 'from the new URL' });
      const plain = await makeBot(app, 'Quiet');
      assert.equal(plain.webhookSecret, undefined, 'no webhook, no secret');
      const set = await fetch(`${app.httpUrl}/api/admin/bots/${plain.id}/webhook`, {
        method: 'PUT',
        headers: operator,
        body: JSON.stringify({ url: `${other.url}?token=hunter2hunter2` }),
      });
      assert.equal(set.status, 200);
      const { bot, webhookSecret } = await json(set);
      assert.match(webhookSecret, /^whsec_/);
      assert.equal(bot.webhookUrl, `${other.url}?token=…`, 'the URL is shown redacted');
      const listed = (await json(await fetch(`${app.httpUrl}/api/admin/bots`, { headers: operator }))).bots;
      assert.equal(listed.find((b: any) => b.id === plain.id).webhookUrl, `${other.url}?token=…`);
      assert.ok(!JSON.stringify(listed).includes('whsec_'), 'secrets are never listed');

      const { client } = await connectV1(app.wsUrl, room, { name: 'Eve' });
      await postV1(client, '@quiet hello', 's1');
      const [delivery] = await other.waitFor(1);
      assert.ok(verifySignature(webhookSecret, delivery!.headers, delivery!.body));
      assert.equal((await nextBotMessage(client)).text, 'from the new URL');

      const removed = await fetch(`${app.httpUrl}/api/admin/bots/${plain.id}/webhook`, {
        method: 'DELETE',
        headers: { authorization: operator.authorization },
      });
      assert.equal(removed.status, 204);
      await postV1(client, '@quiet still there?', 's2');
      await sleep(300);
      assert.equal(other.received.length, 1, 'no delivery after the webhook is removed');
      const missing = await fetch(`${app.httpUrl}/api/admin/bots/bot_nobody/webhook`, {
        method: 'PUT',
        headers: operator,
        body: JSON.stringify({ url: other.url }),
      });
      assert.equal(missing.status, 404);
      const bad = await fetch(`${app.httpUrl}/api/admin/bots/${plain.id}/webhook`, {
        method: 'PUT',
        headers: operator,
        body: JSON.stringify({ url: 'ftp://example.com/hook' }),
      });
      assert.equal(bad.status, 400);
      client.close();
    } finally {
      await other.close();
    }
  });
});

describe('bots’ mentions and the address policy', () => {
  test('a webhook URL on a private address is refused when the bot is made', async (t) => {
    const app = await startApp(t, { ADMIN_TOKEN });
    for (const url of ['http://127.0.0.1:9/hook', 'http://[::1]/hook', 'http://169.254.169.254/latest']) {
      const res = await fetch(`${app.httpUrl}/api/admin/bots`, {
        method: 'POST',
        headers: operator,
        body: JSON.stringify({ name: 'Nosy', webhookUrl: url }),
      });
      const body = await json(res);
      assert.deepEqual([res.status, body.error], [400, 'bad_request'], url);
      assert.match(body.message, /not a public address/);
    }
    const bots = await json(await fetch(`${app.httpUrl}/api/admin/bots`, { headers: operator }));
    assert.deepEqual(bots.bots, [], 'nothing made');
  });
});

describe('bots’ mentions in a cluster (two instances, one Redis)', () => {
  let receiver: TestReceiver;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;

  before(async () => {
    receiver = await TestReceiver.start();
    ({ a, b, stop } = await startTwoInstances(undefined, { ADMIN_TOKEN, WEBHOOK_ALLOW_PRIVATE: '1' }));
  });
  after(async () => {
    await stop();
    await receiver.close();
  });

  test('a bot made through one instance is mentioned through the other: one delivery, one reply', async () => {
    const room = 'bm_cluster';
    receiver.handler = (_request, res) => answer(res, 200, { text: 'hello from the cluster' });
    const bot = await makeBot(a, 'Relay', receiver.url);
    const { client: alice } = await connectV1(a.wsUrl, room, { name: 'Alice' });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    // Instance b learns of the new bot within BAN_REFRESH_MS (2 s).
    await sleep(2500);
    await postV1(bob, 'ping @relay', 'c1');
    await waitForMentions(receiver, room, 1);
    const reply = await nextBotMessage(alice);
    assert.deepEqual([reply.user.id, reply.text], [bot.id, 'hello from the cluster']);
    await sleep(500);
    assert.equal(mentionsIn(receiver, room).length, 1, 'told by the instance that stored the message only');
    assert.equal((await history(a, room)).filter((m) => m.user.id === bot.id).length, 1);
    alice.close();
    bob.close();
  });
});
