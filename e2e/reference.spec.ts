import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect, repoRoot, test } from './fixtures.ts';

// Parley must serve the Django Channels tutorial's room page unchanged: same WebSocket path,
// same {"message": ...} frames. The test runs with two versions of that page:
//
// - e2e/reference/room.html, in the repository: a page written to behave exactly as the
//   tutorial's (same element ids, URL, frames, Enter and click handling). Always tested.
// - the tutorial's own chat/templates/chat/room.html, when it is kept beside the repository
//   (../shared/peers/django-channels/..., never copied into it) or PARLEY_REFERENCE_TEMPLATE
//   names it (relative to the repository). Tested too when found; when not, the test output
//   says so.
const IN_REPO_PAGE = resolve(repoRoot, 'e2e/reference/room.html');
const TUTORIAL_PATH =
  process.env.PARLEY_REFERENCE_TEMPLATE || '../shared/peers/django-channels/chat/templates/chat/room.html';
const TUTORIAL_TEMPLATE = resolve(repoRoot, TUTORIAL_PATH);
const tutorialFound = existsSync(TUTORIAL_TEMPLATE);
const TUTORIAL_MISSING =
  `The Django Channels tutorial's own room.html was not found at ${TUTORIAL_PATH} (relative to the ` +
  'repository; PARLEY_REFERENCE_TEMPLATE names another): only the in-repo equivalent, e2e/reference/room.html, ' +
  'was tested.';

const PAGES = [
  { label: 'in-repo equivalent page', file: IN_REPO_PAGE },
  ...(tutorialFound ? [{ label: "the tutorial's own template", file: TUTORIAL_TEMPLATE }] : []),
];

/** Renders the page's Django tag for `room` as Django would. */
function renderReferencePage(file: string, room: string): string {
  const template = readFileSync(file, 'utf8');
  const tag = '{{ room_name|json_script:"room-name" }}';
  if (!template.includes(tag)) throw new Error(`${file} no longer contains ${tag}`);
  // What Django's json_script filter renders: JSON with <, > and & escaped for a <script>.
  const json = JSON.stringify(room).replace(/</g, '\\u003C').replace(/>/g, '\\u003E').replace(/&/g, '\\u0026');
  return template.split(tag).join(`<script id="room-name" type="application/json">${json}</script>`);
}

for (const { label, file } of PAGES) {
  test(`the reference Django page chats through Parley, with Parley clients in the same room (${label})`, async ({
    openPerson,
    serverA,
    uniqueRoom,
  }, testInfo) => {
    testInfo.annotations.push({
      type: 'reference page',
      description: file === IN_REPO_PAGE ? 'e2e/reference/room.html' : TUTORIAL_PATH,
    });
    if (file === IN_REPO_PAGE && !tutorialFound) {
      testInfo.annotations.push({ type: 'notice', description: TUTORIAL_MISSING });
      console.log(`[${testInfo.project.name}] ${TUTORIAL_MISSING}`);
    }
    const room = uniqueRoom('reference');
    const html = renderReferencePage(file, room);
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
    await visitor.page.route(pageUrl, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html }),
    );

    await parleyUser.room.goto(`/chat/${room}/`);
    await parleyUser.room.expectJoined(room);

    const opened = visitor.page.waitForEvent('websocket', (ws) => ws.url().endsWith(`/ws/chat/${room}/`));
    await visitor.page.goto(pageUrl);
    const socket = await opened;
    expect(new URL(socket.url()).host).toBe(new URL(serverA).host);
    // The page shows no connection state and its send() throws while the socket is still
    // connecting; its top-level `const chatSocket` is reachable by name from an evaluated script.
    await expect.poll(() => visitor.page.evaluate('chatSocket.readyState')).toBe(1);

    // Enter sends the input's text and clears it.
    const input = visitor.page.locator('#chat-message-input');
    const log = visitor.page.locator('#chat-log');
    await expect(input).toBeFocused();
    await input.fill('hello from the Django page');
    const frame = socket.waitForEvent('framesent');
    await input.press('Enter');
    expect((await frame).payload).toBe(JSON.stringify({ message: 'hello from the Django page' }));
    await expect(input).toHaveValue('');

    await expect(log).toHaveValue('hello from the Django page\n');
    await parleyUser.room.expectMessage('hello from the Django page');
    // The reference protocol has no names: a Parley client shows such messages as Anonymous's.
    await expect(parleyUser.room.groupOf('hello from the Django page')).toHaveAttribute('data-author', 'Anonymous');

    await parleyUser.room.send('and hello back from Parley');
    await expect(log).toHaveValue('hello from the Django page\nand hello back from Parley\n');

    // The Send button does the same.
    await input.fill('sent with the button');
    const clicked = socket.waitForEvent('framesent');
    await visitor.page.locator('#chat-message-submit').click();
    expect((await clicked).payload).toBe(JSON.stringify({ message: 'sent with the button' }));
    await expect(input).toHaveValue('');
    await expect(log).toHaveValue('hello from the Django page\nand hello back from Parley\nsent with the button\n');
    await parleyUser.room.expectMessage('sent with the button');
  });
}
