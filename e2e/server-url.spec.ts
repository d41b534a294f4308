import { expect, test } from './fixtures.ts';

// Operators may host the SPA on one origin and the chat server on another, and say so in
// config.js without rebuilding. Here the app comes from http://localhost:<A> and is pointed at
// the server B as http://127.0.0.1:<B>: a different origin even in the memory project.
test('config.js can point the app at a chat server on another origin', async ({
  openPerson,
  serverA,
  serverB,
  uniqueRoom,
}) => {
  const room = uniqueRoom('elsewhere');
  const appOrigin = serverA.replace('127.0.0.1', 'localhost');
  const alice = await openPerson(appOrigin);
  const bob = await openPerson('B');

  await alice.page.route(`${appOrigin}/config.js`, (route) =>
    route.fulfill({
      contentType: 'text/javascript',
      body: `window.PARLEY_CONFIG = { serverUrl: ${JSON.stringify(serverB)} };`,
    }),
  );
  const socket = alice.page.waitForEvent('websocket');
  await alice.lobby.goto();
  await alice.lobby.enterRoom(room);
  await alice.room.expectJoined(room);
  expect(new URL(alice.page.url()).origin).toBe(appOrigin);
  const socketUrl = new URL((await socket).url());
  expect(socketUrl.origin + socketUrl.pathname).toBe(`${serverB.replace('http:', 'ws:')}/ws/chat/${room}/`);
  expect(socketUrl.searchParams.get('name')).toBe('Alice');

  await bob.room.goto(`/chat/${room}/`);
  await bob.room.expectJoined(room);
  await alice.room.send('from another origin');
  await bob.room.expectMessage('from another origin');
  await alice.room.expectMessage('from another origin');

  // The HTTP API is on that server too: the lobby lists the room (Bob is still in it).
  await alice.room.lobbyLink.click();
  await expect(alice.lobby.activeRoom(room)).toBeVisible();
});

test('the shipped config.js leaves the server at the page origin', async ({ page, request, serverA }) => {
  const response = await request.get(`${serverA}/config.js`);
  expect(response.ok()).toBe(true);
  await page.goto('/chat/');
  expect(await page.evaluate(() => (window as { PARLEY_CONFIG?: unknown }).PARLEY_CONFIG)).toEqual({});
});
