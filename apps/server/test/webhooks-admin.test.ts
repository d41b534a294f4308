import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookStatusListSchema, decodeWith } from '@parley/protocol';
import { redactUrl } from '../src/integrations/redact-url.ts';
import { startApp, type RunningApp } from './helpers/app.ts';
import { answer, TestReceiver } from './helpers/receiver.ts';
import { startTwoInstances } from './helpers/two-instances.ts';
import { connectV1, json, postV1 } from './helpers/ws-client.ts';

/**
 * The operator's view of webhook deliveries (issue 17): `GET /api/admin/webhooks` lists each
 * webhook with its URL redacted and, per instance, its counts, its last attempt and its last
 * failures. Real receivers on 127.0.0.1.
 */

const SECRET = 'webhook-secret-for-the-admin-tests-01';
const ADMIN_TOKEN = 'operator-token-for-webhook-admin-tests-0123';
const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function webhooks(app: RunningApp): Promise<any[]> {
  const res = await fetch(`${app.httpUrl}/api/admin/webhooks`, { headers: auth });
  assert.equal(res.status, 200);
  const body = await json(res);
  // The protocol's schema (the OpenAPI document's) holds for every answer.
  const decoded = decodeWith(WebhookStatusListSchema, body);
  assert.ok(decoded.ok, decoded.ok ? '' : decoded.message);
  return body.webhooks;
}

/** Polls the list until `done` holds for it (reports and deliveries take a moment). */
async function webhooksWhen(app: RunningApp, done: (list: any[]) => boolean, timeoutMs = 8000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const list = await webhooks(app);
    if (done(list)) return list;
    if (Date.now() > deadline) throw new Error(`not as expected within ${timeoutMs} ms: ${JSON.stringify(list)}`);
    await sleep(100);
  }
}

describe('redacted webhook URLs', () => {
  test('credentials, query values and token-like path segments are left out', () => {
    assert.equal(
      redactUrl(new URL('https://user:pass@hooks.example.com/in?token=s3cret&token=again&v=1#frag')),
      'https://hooks.example.com/in?token=…&v=…',
    );
    assert.equal(
      redactUrl(new URL('https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX')),
      'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'letters alone are a word, not a token',
    );
    assert.equal(
      redactUrl(new URL('https://discord.com/api/webhooks/1234567890123456789/aBcD3fGhIjKlMnOpQrStUvWxYz_0-9')),
      'https://discord.com/api/webhooks/1234…/aBcD…',
    );
    assert.equal(redactUrl(new URL('http://127.0.0.1:8080/hook')), 'http://127.0.0.1:8080/hook');
  });
});

describe('GET /api/admin/webhooks on one instance', () => {
  let good: TestReceiver;
  let broken: TestReceiver;
  let app: RunningApp;

  before(async () => {
    good = await TestReceiver.start();
    broken = await TestReceiver.start();
    broken.handler = (_request, res) => answer(res, 503, { error: 'down' });
    app = await startApp(undefined, {
      ADMIN_TOKEN,
      WEBHOOK_URLS: `${good.url}?token=receiver-secret-1,http://127.0.0.1:${broken.port}/hooks/tok3n0123456789abcdef`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_RETRY_BASE_MS: '20',
      WEBHOOK_MAX_ATTEMPTS: '2',
    });
  });
  after(async () => {
    await app.app.close();
    await good.close();
    await broken.close();
  });

  test('the operator’s token is needed', async () => {
    assert.equal((await fetch(`${app.httpUrl}/api/admin/webhooks`)).status, 401);
  });

  test('each URL, redacted, with its events and this instance’s counts, last attempt and failures', async () => {
    const before = await webhooks(app);
    assert.deepEqual(
      before.map((w) => [w.kind, w.url, w.events, w.instances.length]),
      [
        ['webhook', `${good.url}?token=…`, ['message', 'edit', 'delete'], 1],
        ['webhook', `http://127.0.0.1:${broken.port}/hooks/tok3…`, ['message', 'edit', 'delete'], 1],
      ],
    );
    assert.ok(!JSON.stringify(before).includes('receiver-secret-1'), 'the query’s secret is not shown');
    assert.ok(!JSON.stringify(before).includes('tok3n0123456789abcdef'), 'nor the path’s');
    assert.deepEqual(
      (({ delivered, failed, retried, dropped, queued, failures }) => ({
        delivered,
        failed,
        retried,
        dropped,
        queued,
        failures,
      }))(before[0].instances[0]),
      { delivered: 0, failed: 0, retried: 0, dropped: 0, queued: 0, failures: [] },
    );
    assert.equal(before[0].instances[0].last, undefined);

    const { client } = await connectV1(app.wsUrl, 'wa_status', { name: 'Alice' });
    const id = await postV1(client, 'to both', 'w1');
    client.close();
    const [toGood] = await good.waitFor(1);
    const list = await webhooksWhen(app, (l) => l[1].instances[0].failed === 1);
    const [ok, failing] = list.map((w) => w.instances[0]);

    assert.equal(ok.delivered, 1);
    assert.equal(ok.failed, 0);
    assert.equal(ok.queued, 0);
    assert.deepEqual(ok.failures, []);
    assert.deepEqual(
      { ...ok.last, at: 0 },
      { at: 0, deliveryId: toGood!.json.deliveryId, event: 'message', attempt: 1, status: 200 },
    );
    assert.equal(toGood!.json.message.id, id);
    assert.ok(Math.abs(ok.last.at - Date.now()) < 5000);

    // 503 twice (WEBHOOK_MAX_ATTEMPTS=2): retried once, then given up.
    assert.deepEqual([failing.delivered, failing.failed, failing.retried, failing.queued], [0, 1, 1, 0]);
    assert.deepEqual(
      failing.failures.map((f: any) => [f.attempt, f.status, f.error, f.retry ?? false]),
      [
        [2, 503, 'status 503', false],
        [1, 503, 'status 503', true],
      ],
      'newest first',
    );
    assert.equal(failing.last.attempt, 2);
    assert.equal(failing.last.deliveryId, toGood!.json.deliveryId, 'one delivery id per event, for every URL');
    assert.equal(broken.received.length, 2);
  });

  test('a receiver that cannot be reached shows the error', async () => {
    const closed = await TestReceiver.start();
    const port = closed.port;
    await closed.close();
    const local = await startApp(undefined, {
      ADMIN_TOKEN,
      WEBHOOK_URLS: `http://127.0.0.1:${port}/gone`,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
      WEBHOOK_MAX_ATTEMPTS: '1',
    });
    try {
      const { client } = await connectV1(local.wsUrl, 'wa_gone', { name: 'Bob' });
      await postV1(client, 'into the void', 'g1');
      client.close();
      const [gone] = await webhooksWhen(local, (l) => l[0].instances[0].failed === 1);
      const [failure] = gone.instances[0].failures;
      assert.equal(failure.status, undefined);
      assert.match(failure.error, /ECONNREFUSED/);
    } finally {
      await local.app.close();
    }
  });
});

describe('GET /api/admin/webhooks in a cluster (two instances, one Redis)', () => {
  let receiver: TestReceiver;
  let a: RunningApp;
  let b: RunningApp;
  let stop: () => Promise<void>;

  before(async () => {
    receiver = await TestReceiver.start();
    ({ a, b, stop } = await startTwoInstances(undefined, {
      ADMIN_TOKEN,
      WEBHOOK_URLS: receiver.url,
      WEBHOOK_SECRET: SECRET,
      WEBHOOK_ALLOW_PRIVATE: '1',
    }));
  });
  after(async () => {
    await stop();
    await receiver.close();
  });

  test('each instance’s deliveries are listed, from either instance', async () => {
    const room = 'wa_cluster';
    const { client: alice } = await connectV1(a.wsUrl, room, { name: 'Alice' });
    const { client: bob } = await connectV1(b.wsUrl, room, { name: 'Bob' });
    await postV1(alice, 'one through a', 'a1');
    await postV1(alice, 'two through a', 'a2');
    await postV1(bob, 'one through b', 'b1');
    await receiver.waitFor(3);
    alice.close();
    bob.close();
    // b reports every 5 s: a sees b's line once it has.
    const [hook] = await webhooksWhen(
      a,
      (list) => list[0]?.instances.length === 2 && list[0].instances.every((i: any) => i.delivered > 0),
      12_000,
    );
    const delivered = hook.instances.map((i: any) => i.delivered).sort();
    assert.deepEqual(delivered, [1, 2]);
    assert.equal(new Set(hook.instances.map((i: any) => i.instance)).size, 2);
  });
});
