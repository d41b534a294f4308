import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, repoRoot, test } from './fixtures.ts';

// The Django Channels tutorial's room page, kept beside the repository (never copied into it).
// Parley must serve it unchanged: same WebSocket path, same {"message": ...} frames.
const TEMPLATE = resolve(repoRoot, '../shared/peers/django-channels/chat/templates/chat/room.html');

function renderReferencePage(room: string): string {
  if (!existsSync(TEMPLATE)) {
    throw new Error(
      `The reference page is missing: expected the Django Channels tutorial template at ${TEMPLATE} ` +
        '(../shared/peers/django-channels/chat/templates/chat/room.html, relative to the repository).',
    );
  }
  const template = readFileSync(TEMPLATE, 'utf8');
  const tag = '{{ room_name|json_script:"room-name" }}';
  if (!template.includes(tag)) throw new Error(`The reference template no longer contains ${tag}`);
  // What Django's json_script filter renders: JSON with <, > and & escaped for a <script>.
  const json = JSON.stringify(room).replace(/</g, '\\u003C').replace(/>/g, '\\u003E').replace(/&/g, '\\u0026');
  return template.replace(tag, `<script id="room-name" type="application/json">${json}</script>`);
}

test('the reference Django page chats through Parley, with Parley clients in the same room', async ({
  openPerson,
  serverA,
  uniqueRoom,
}) => {
  const room = uniqueRoom('reference');
  const html = renderReferencePage(room);
  const visitor = await openPerson('A');
  const parleyUser = await openPerson('B');

  // Served from the Parley server's own origin, as Django would serve it, so that the page's
  // `'ws://' + window.location.host` reaches Parley.
  const pageUrl = `${serverA}/reference/chat/${room}/`;
  // Chromium's Local Network Access checks treat a page fulfilled by page.route as coming from
  // nowhere (no server address), so its WebSocket to 127.0.0.1 would be blocked
  // (ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS). A page really served by Parley is loopback
  // itself and needs no permission; the route is what needs it.
  await visitor.context.grantPermissions(['local-network-access'], { origin: serverA });
  await visitor.page.route(pageUrl, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }));

  await parleyUser.room.goto(`/chat/${room}/`);
  await parleyUser.room.expectJoined(room);

  const opened = visitor.page.waitForEvent('websocket', (ws) => ws.url().endsWith(`/ws/chat/${room}/`));
  await visitor.page.goto(pageUrl);
  const socket = await opened;
  expect(new URL(socket.url()).host).toBe(new URL(serverA).host);
  // The page shows no connection state and its send() throws while the socket is still
  // connecting; its top-level `const chatSocket` is reachable by name from an evaluated script.
  await expect.poll(() => visitor.page.evaluate('chatSocket.readyState')).toBe(1);

  const input = visitor.page.locator('#chat-message-input');
  await expect(input).toBeFocused();
  await input.fill('hello from the Django page');
  const frame = socket.waitForEvent('framesent');
  await input.press('Enter');
  expect((await frame).payload).toBe(JSON.stringify({ message: 'hello from the Django page' }));

  await expect(visitor.page.locator('#chat-log')).toHaveValue('hello from the Django page\n');
  await parleyUser.room.expectMessage('hello from the Django page');
  // The reference protocol has no names: a Parley client shows such messages as Anonymous's.
  await expect(parleyUser.room.groupOf('hello from the Django page')).toHaveAttribute('data-author', 'Anonymous');

  await parleyUser.room.send('and hello back from Parley');
  await expect(visitor.page.locator('#chat-log')).toHaveValue('hello from the Django page\nand hello back from Parley\n');
});
