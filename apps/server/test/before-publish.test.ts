import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { metric, startApp, type RunningApp } from './helpers/app.ts';
import { answer, TestReceiver, verifyAsReadmeShows, type Received } from './helpers/receiver.ts';
import { TestClient, connectV1, json, nextOfType, postV1, requestV1, sendV1 } from './helpers/ws-client.ts';

/**
 * The before-publish hook (issue 17): a real HTTP server on 127.0.0.1 plays the operator's hook,
 * and real sockets and bots post through a real app. Every new message and edit is asked about
 * before it is stored (RoomHub.post and .change), and the hook accepts, rejects or replaces;
 * a hook that does not answer in time, answers too much or is too busy is a failure, which the
 * operator's policy turns into a post (open) or a refusal (closed).
 */

const SECRET = 'before-publish-secret-for-tests-0001';
const ADMIN_TOKEN = 'operator-token-for-the-hook-tests-0123';
const operator = { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' };

const verify = (request: Received, secret = SECRET): boolean => verifyAsReadmeShows(request, secret);

async function history(app: RunningApp, room: string): Promise<string[]> {
  const res = await fetch(`${app.httpUrl}/api/rooms/${room}/messages`);
  return res.status === 200 ? (await json(res)).messages.map((m: any) => m.text) : [];
}

async function makeBot(app: RunningApp, name: string): Promise<string> {
  const res = await fetch(`${app.httpUrl}/api/admin/bots`, {
    method: 'POST',
    headers: operator,
    body: '{"name":"' + name + '"}',
  });
  assert.equal(res.status, 201);
  return (await json(res)).key;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the before-publish hook', () => {
  let hook: TestReceiver;
  /** Fails open, 300 ms to answer. */
  let open: RunningApp;
  /** Fails closed, 300 ms to answer, one call in flight at most. */
  let closed: RunningApp;

  before(async () => {
    hook = await TestReceiver.start();
    const env = {
      BEFORE_PUBLISH_URL: hook.url,
      BEFORE_PUBLISH_SECRET: SECRET,
      BEFORE_PUBLISH_TIMEOUT_MS: '300',
      ADMIN_TOKEN,
    };
    open = await startApp(undefined, { ...env, BEFORE_PUBLISH_FAILURE: 'open' });
    closed = await startApp(undefined, { ...env, BEFORE_PUBLISH_FAILURE: 'closed', BEFORE_PUBLISH_CONCURRENCY: '1' });
  });
  after(async () => {
    await open.app.close();
    await closed.app.close();
    await hook.close();
  });

  test('accept: the message is stored as sent; the hook is told who said what, signed', async () => {
    hook.reset();
    hook.handler = (_request, res) => answer(res, 200, { action: 'accept' });
    const { client, welcome } = await connectV1(open.wsUrl, 'bp_accept', { name: 'Alice' });
    const id = await postV1(client, 'hello there', 'm1');
    assert.deepEqual(await history(open, 'bp_accept'), ['hello there']);

    const [request] = await hook.waitFor(1);
    assert.deepEqual(request!.json, {
      event: 'message',
      room: 'bp_accept',
      user: { id: welcome.you.id, name: 'Alice' },
      text: 'hello there',
      clientMsgId: 'm1',
    });
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.ok(verify(request!), 'the receiver verifies the signature with the shared secret');
    assert.ok(!verify(request!, 'another-secret-of-sixteen-chars'), 'another secret does not verify');
    assert.ok(
      !verify({ ...request!, body: request!.body.replace('hello', 'HELLO') }),
      'a changed body does not verify',
    );
    assert.match(id, /^\d+-\d+$/);
    assert.ok((await metric(open, 'parley_before_publish_calls_total{outcome="accept"}')) >= 1);
    client.close();
  });

  test('reject: the sender gets `rejected` with the hook’s reason, nothing is stored or shown to anyone', async () => {
    hook.reset();
    hook.handler = (request, res) =>
      request.json.text.includes('spam')
        ? answer(res, 200, { action: 'reject', reason: 'No spam here,\nplease.' })
        : answer(res, 200, { action: 'accept' });
    const { client: alice } = await connectV1(open.wsUrl, 'bp_reject', { name: 'Alice' });
    const { client: bob } = await connectV1(open.wsUrl, 'bp_reject', { name: 'Bob' });
    await nextOfType(alice, 'join');

    const refused = await sendV1(alice, 'buy spam now', 'r1');
    assert.deepEqual(refused, {
      type: 'error',
      code: 'rejected',
      message: 'No spam here, please.',
      clientMsgId: 'r1',
    });
    await postV1(alice, 'a fine message', 'r2');
    // Bob sees the fine message and nothing before it.
    const seen = await nextOfType(bob, 'message');
    assert.equal(seen.text, 'a fine message');
    assert.deepEqual(await history(open, 'bp_reject'), ['a fine message']);

    // An edit into what the hook refuses is refused the same way; the message keeps its text.
    const edit = await requestV1(alice, { type: 'edit', id: seen.id, text: 'now it is spam' }, 'r3');
    assert.equal(edit.code, 'rejected');
    assert.equal(hook.received.at(-1)!.json.event, 'edit');
    assert.equal(hook.received.at(-1)!.json.id, seen.id);
    assert.deepEqual(await history(open, 'bp_reject'), ['a fine message']);
    await bob.expectSilence(200);

    // A reason-less refusal gets a sentence of the server's.
    hook.handler = (_request, res) => answer(res, 200, { action: 'reject' });
    assert.equal((await sendV1(alice, 'anything', 'r4')).message, 'This server does not accept this message.');
    assert.ok((await metric(open, 'parley_errors_total{code="rejected"}')) >= 3);
    alice.close();
    bob.close();
  });

  test('replace: the hook’s text is stored and shown instead; an invalid replacement is a failed call', async () => {
    hook.reset();
    hook.handler = (request, res) =>
      answer(res, 200, { action: 'replace', text: request.json.text.replace(/darn/g, '****') });
    const { client: alice } = await connectV1(open.wsUrl, 'bp_replace', { name: 'Alice' });
    const { client: bob } = await connectV1(open.wsUrl, 'bp_replace', { name: 'Bob' });
    await nextOfType(alice, 'join');
    await postV1(alice, 'darn it', 'p1');
    assert.equal((await nextOfType(bob, 'message')).text, '**** it');
    assert.deepEqual(await history(open, 'bp_replace'), ['**** it']);

    // A replacement the text rules refuse (a bidirectional override, a blank) is not stored:
    // the call failed, and this app fails open, so the message goes as sent.
    hook.handler = (_request, res) => answer(res, 200, { action: 'replace', text: 'evil \u202e txt' });
    const before = await metric(open, 'parley_before_publish_calls_total{outcome="bad_answer"}');
    await postV1(alice, 'plain words', 'p2');
    assert.equal((await nextOfType(bob, 'message')).text, 'plain words');
    assert.equal(await metric(open, 'parley_before_publish_calls_total{outcome="bad_answer"}'), before + 1);
    alice.close();
    bob.close();
  });

  test('a hook that does not answer in time: fail-open posts the message unchecked, fail-closed refuses it (`unavailable`)', async () => {
    hook.reset();
    hook.handler = async (_request, res) => {
      await sleep(1000);
      answer(res, 200, { action: 'reject', reason: 'too late to matter' });
    };
    const { client: a } = await connectV1(open.wsUrl, 'bp_timeout', { name: 'Alice' });
    const started = Date.now();
    await postV1(a, 'through when the hook sleeps', 't1');
    const waited = Date.now() - started;
    assert.ok(waited >= 250 && waited < 900, `waited for the timeout (300 ms), not the hook: ${waited} ms`);
    assert.deepEqual(await history(open, 'bp_timeout'), ['through when the hook sleeps']);
    assert.ok((await metric(open, 'parley_before_publish_calls_total{outcome="timeout"}')) >= 1);
    assert.ok((await metric(open, 'parley_before_publish_failures_total{policy="open"}')) >= 1);

    const { client: c } = await connectV1(closed.wsUrl, 'bp_timeout', { name: 'Carol' });
    const refused = await sendV1(c, 'stopped when the hook sleeps', 't2');
    assert.equal(refused.code, 'unavailable');
    assert.match(refused.message, /could not be checked/);
    assert.deepEqual(await history(closed, 'bp_timeout'), []);
    assert.ok((await metric(closed, 'parley_before_publish_failures_total{policy="closed"}')) >= 1);
    await sleep(800); // (the sleeping hook answers the closed app's call before the next test)
    a.close();
    c.close();
  });

  test('an answer over the size bound is not read: a failed call (here, fail-closed: refused)', async () => {
    hook.reset();
    hook.handler = (_request, res) => {
      // A well-formed accept, padded far past what any valid answer needs (1 KiB + 6 × MAX_TEXT_BYTES).
      const padded = JSON.stringify({ action: 'accept', padding: 'x'.repeat(200_000) });
      res.writeHead(200, { 'content-type': 'application/json' }); // no length: the bound is counted as it arrives
      res.end(padded);
    };
    const { client } = await connectV1(closed.wsUrl, 'bp_oversize', { name: 'Carol' });
    const refused = await sendV1(client, 'checked by a chatty hook', 'o1');
    assert.equal(refused.code, 'unavailable');
    assert.deepEqual(await history(closed, 'bp_oversize'), []);
    assert.ok((await metric(closed, 'parley_before_publish_calls_total{outcome="too_large"}')) >= 1);
    // Not a 200: failed as well.
    hook.handler = (_request, res) => answer(res, 500, { action: 'accept' });
    assert.equal((await sendV1(client, 'checked by a broken hook', 'o2')).code, 'unavailable');
    client.close();
  });

  test('at the concurrency bound (1 here), a message is not checked and the policy applies at once; one sender’s posts keep their order', async () => {
    hook.reset();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    hook.handler = async (request, res) => {
      if (request.json.text === 'slow one') await held;
      answer(res, 200, { action: 'accept' });
    };
    const { client: a } = await connectV1(closed.wsUrl, 'bp_busy', { name: 'Alice' });
    const { client: b } = await connectV1(closed.wsUrl, 'bp_busy', { name: 'Bob' });
    a.send({ type: 'message', text: 'slow one', clientMsgId: 'b1' });
    await hook.waitFor(1);
    // Alice's call is in flight, the only one allowed: Bob's message is refused without a call.
    const started = Date.now();
    const refused = await sendV1(b, 'while the hook is busy', 'b2');
    assert.equal(refused.code, 'unavailable');
    assert.ok(Date.now() - started < 250, 'refused at once, not after the timeout');
    assert.equal(hook.received.length, 1, 'no call was made for it');
    assert.ok((await metric(closed, 'parley_before_publish_calls_total{outcome="overloaded"}')) >= 1);
    release();
    const ack = await nextOfType(a, 'ack');
    assert.equal(ack.clientMsgId, 'b1');
    a.close();
    b.close();

    // One sender, two messages, the first checked slowly (the open app allows many calls): they
    // are stored in the order sent.
    hook.reset();
    hook.handler = async (request, res) => {
      if (request.json.text === 'first') await sleep(150);
      answer(res, 200, { action: 'accept' });
    };
    const { client } = await connectV1(open.wsUrl, 'bp_order', { name: 'Alice' });
    client.send({ type: 'message', text: 'first', clientMsgId: 'o1' });
    client.send({ type: 'message', text: 'second', clientMsgId: 'o2' });
    const echoes = [await nextOfType(client, 'message'), await nextOfType(client, 'message')];
    assert.deepEqual(
      echoes.map((m) => m.text),
      ['first', 'second'],
    );
    assert.deepEqual(await history(open, 'bp_order'), ['first', 'second']);
    client.close();
  });

  test('a bot’s post goes through the hook: refused with HTTP 422 `rejected` and the reason, or stored replaced', async () => {
    hook.reset();
    const key = await makeBot(open, 'Deploy Bot');
    const post = (text: string) =>
      fetch(`${open.httpUrl}/api/rooms/bp_bot/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
      });
    hook.handler = (request, res) =>
      request.json.text.startsWith('secret')
        ? answer(res, 200, { action: 'reject', reason: 'That looks like a secret.' })
        : answer(res, 200, { action: 'replace', text: `[bot] ${request.json.text}` });

    const refused = await post('secret: hunter2');
    assert.equal(refused.status, 422);
    assert.deepEqual(await json(refused), { error: 'rejected', message: 'That looks like a secret.' });
    const stored = await post('deploy finished');
    assert.equal(stored.status, 201);
    assert.deepEqual(await history(open, 'bp_bot'), ['[bot] deploy finished']);
    const [first] = await hook.waitFor(2);
    assert.equal(first!.json.user.bot, true);
    assert.match(first!.json.user.id, /^bot_/);
    assert.ok(verify(first!));
  });

  test('a reference-protocol sender gets an `error` frame with the reason; nothing is broadcast', async () => {
    hook.reset();
    hook.handler = (_request, res) => answer(res, 200, { action: 'reject', reason: 'Not here.' });
    const reference = await TestClient.connect(`${open.wsUrl}/ws/chat/bp_reference/`);
    const { client: watcher } = await connectV1(open.wsUrl, 'bp_reference', { name: 'Watcher' });
    reference.send({ message: 'refused words' });
    assert.deepEqual(await reference.next(), { type: 'error', code: 'rejected', message: 'Not here.' });
    assert.equal((await hook.waitFor(1))[0]!.json.user.name, 'Anonymous');
    await watcher.expectSilence(200);
    assert.deepEqual(await history(open, 'bp_reference'), []);
    reference.close();
    watcher.close();
  });
});
