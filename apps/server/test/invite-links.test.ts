import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startApp } from './helpers/app.ts';
import { TestClient, connectV1, nextOfType, postV1 } from './helpers/ws-client.ts';

/**
 * An invite's `url` opens the web app where the page that asked is (its Origin); a client with
 * no page (an SDK in Node, a bot) gets a link on the first PUBLIC_ORIGIN, and none without it.
 */
async function inviteFrom(wsUrl: string, room: string, origin?: string) {
  const owner = await connectV1(wsUrl, room, { name: 'Olga' });
  await postV1(owner.client, 'mine');
  const token = owner.welcome.token as string;
  owner.client.close();
  const client = await TestClient.connect(`${wsUrl}/ws/chat/${room}/?name=Olga`, {
    protocols: ['parley.v1', `parley.token.${token}`],
    ...(origin === undefined ? {} : { origin }),
  });
  await nextOfType(client, 'welcome');
  client.send({ type: 'invite', clientMsgId: 'i1' });
  const invite = await nextOfType(client, 'invite');
  client.close();
  return invite;
}

test('invite links: the asking page’s origin, else the first PUBLIC_ORIGIN, else no link', async (t) => {
  const configured = await startApp(t, { PUBLIC_ORIGIN: 'https://chat.example.org,https://other.example.org' });
  const pageless = await inviteFrom(configured.wsUrl, 'links_a');
  assert.ok(
    pageless.url.startsWith('https://chat.example.org/chat/links_a/?invite='),
    `a client without a page gets the public origin's link: ${pageless.url}`,
  );
  assert.ok(pageless.url.endsWith(encodeURIComponent(pageless.invite)));
  const fromPage = await inviteFrom(configured.wsUrl, 'links_b', 'https://other.example.org');
  assert.ok(fromPage.url.startsWith('https://other.example.org/chat/links_b/?invite='), fromPage.url);

  const unconfigured = await startApp(t);
  const none = await inviteFrom(unconfigured.wsUrl, 'links_c');
  assert.equal(none.url, undefined, 'no page and no PUBLIC_ORIGIN: the invite alone');
  assert.equal(typeof none.invite, 'string');
});
