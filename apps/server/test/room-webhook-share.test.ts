import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { metric, startApp } from './helpers/app.ts';
import { eventually } from './helpers/crowd.ts';
import { answer, TestReceiver, type Received } from './helpers/receiver.ts';
import { connectV1, postV1, type TestClient } from './helpers/ws-client.ts';

/**
 * A room's share of the rooms' webhook queue (ROOM_WEBHOOK_QUEUE_PER_ROOM): a room whose
 * receiver is slow holds that many deliveries at most, beyond them its events are dropped and
 * counted (room_share), other rooms' deliveries go on, and the share is counted per room: an
 * owner who points the webhook at a new URL does not get a fresh share while the old URL's
 * deliveries still wait. Real app, real sockets, a real receiver that holds its requests until
 * the test answers them.
 */

const SHARE = 3;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ROOM_SHARE = 'parley_room_webhook_dropped_total{reason="room_share"}';

let requests = 0;
/** Sets the room's webhook (the owner's `webhook` frame) and waits for its answer. */
async function setWebhook(owner: TestClient, url: string): Promise<void> {
  const clientMsgId = `share${requests++}`;
  owner.send({ type: 'webhook', url, events: ['message'], clientMsgId });
  for (;;) {
    const reply = await owner.next(5000);
    if (reply.clientMsgId !== clientMsgId) continue;
    assert.equal(reply.type, 'webhook', JSON.stringify(reply));
    return;
  }
}

test(`a room holds ${SHARE} webhook deliveries at most, whatever its URL, and other rooms' go on`, async (t) => {
  const receiver = await TestReceiver.start();
  t.after(() => receiver.close());
  const held: Array<{ request: Received; res: ServerResponse }> = [];
  receiver.handler = (request, res) => void held.push({ request, res });
  const messagesTo = (room: string) =>
    receiver.received.filter((r) => r.json?.event === 'message' && r.json.room === room).length;

  const app = await startApp(t, {
    ROOM_WEBHOOK_ALLOW_PRIVATE: '1',
    ROOM_WEBHOOK_QUEUE_PER_ROOM: String(SHARE),
    // Held requests must stay held for the test's length: no timeout, no retry meanwhile.
    WEBHOOK_TIMEOUT_MS: '30000',
  });

  // The busy room: its receiver answers nothing; six messages, three held, three dropped.
  const busy = 'share_busy';
  const { client: olga } = await connectV1(app.wsUrl, busy, { name: 'Olga' });
  await postV1(olga, 'mine now');
  await setWebhook(olga, `${receiver.url}?room=busy`);
  for (let i = 0; i < 6; i++) await postV1(olga, `busy ${i}`);
  await eventually(
    async () => (await metric(app, ROOM_SHARE)) === 3,
    'three of the busy room`s deliveries dropped',
    5000,
  );
  await eventually(() => messagesTo(busy) >= 1, 'the busy room`s first deliveries are in flight', 5000);

  // A new URL: the room still holds its three, so its next events are dropped too.
  await setWebhook(olga, `${receiver.url}?room=busy-elsewhere`);
  for (let i = 0; i < 2; i++) await postV1(olga, `busy again ${i}`);
  await eventually(async () => (await metric(app, ROOM_SHARE)) === 5, 'the new URL got no fresh share', 5000);

  // Another room is not held up by the busy one.
  const calm = 'share_calm';
  const { client: carl } = await connectV1(app.wsUrl, calm, { name: 'Carl' });
  await postV1(carl, 'mine now');
  await setWebhook(carl, `${receiver.url}?room=calm`);
  await postV1(carl, 'hello');
  await eventually(() => messagesTo(calm) === 1, 'the calm room`s delivery arrived', 5000);
  assert.equal(await metric(app, ROOM_SHARE), 5, 'nothing of the calm room dropped');

  // The receiver answers: the busy room's deliveries end, and its share is free again.
  const answerAll = () => {
    for (const { res } of held.splice(0)) answer(res, 200, {});
  };
  const drain = setInterval(answerAll, 20);
  t.after(() => clearInterval(drain));
  await eventually(() => messagesTo(busy) === SHARE, 'the busy room`s three held deliveries were made', 5000);
  await sleep(100); // their ends are told as the answers return
  await postV1(olga, 'after the answers');
  await eventually(() => messagesTo(busy) === SHARE + 1, 'the busy room delivers again', 5000);
  assert.equal(await metric(app, ROOM_SHARE), 5, 'nothing more dropped once the share was free');
  clearInterval(drain);
  answerAll();
  for (const client of [olga, carl]) client.close();
});
