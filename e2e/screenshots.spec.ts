import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Browser, BrowserContextOptions, Page } from '@playwright/test';
import { expectNoHorizontalScroll } from './checks.ts';
import { expect, rememberName, repoRoot, test, type Person } from './fixtures.ts';
import { openGuests } from './guests.ts';
import { startOwnServer } from './own-server.ts';
import { RoomPage } from './pages/room-page.ts';
import { LobbyPage } from './pages/lobby-page.ts';
import { E2E_ADMIN_TOKEN } from './test-servers.ts';

// The README's pictures: docs/screenshots/{lobby,room}-{light,dark}-{desktop,phone}.png. Run by
// `pnpm screenshots` only (e2e/screenshots.config.ts), against a fresh server, so the room
// names are fixed and the lobby lists exactly the rooms made here.
const OUT = resolve(repoRoot, 'docs/screenshots');
const ROOM = 'release_planning';

const DEVICES = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
} satisfies Record<string, BrowserContextOptions>;
const SCHEMES = ['light', 'dark'] as const;

test('README screenshots', async ({ browser, openPerson, serverA }) => {
  const alice = await openPerson('A', { name: 'Alice' });
  const bob = await openPerson('A', { name: 'Bob' });
  const carol = await openPerson('A', { name: 'Carol' });
  for (const person of [alice, bob]) {
    await person.room.goto(`/chat/${ROOM}/`);
    await person.room.expectJoined(ROOM);
  }

  const say = async (person: Person, text: string) => {
    await person.room.messageInput.fill(text);
    await person.room.messageInput.press('Enter');
    await person.room.expectMessage(text);
  };
  await say(alice, "Morning! Is this where we plan Friday's release?");
  await say(alice, 'The notes from last week are at https://example.com/notes');
  await say(bob, 'It is. Welcome, Alice!');
  await say(
    bob,
    'Three things are left:\n1. the e2e suite green three times in a row\n2. screenshots in both themes\n3. the release notes',
  );
  await carol.room.goto(`/chat/${ROOM}/`);
  await carol.room.expectJoined(ROOM);
  await say(carol, 'I can write the release notes.');
  await say(bob, 'Thanks Carol! @Alice, could you check the phone layout?');
  await alice.room.expectMessage('Thanks Carol! @Alice, could you check the phone layout?');

  // Two more rooms in use, for the lobby's list.
  for (const [name, room, text] of [
    ['Dave', 'frontend', 'The new header is merged.'],
    ['Eun-ji', '한국어', '안녕하세요!'],
  ] as const) {
    const person = await openPerson('A', { name });
    await person.room.goto(`/chat/${room}/`);
    await person.room.expectJoined(room);
    await say(person, text);
  }

  mkdirSync(OUT, { recursive: true });
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      // Alice again, in a second tab of hers (same identity: no "joined" line, her messages
      // marked as hers), at this size and in this theme.
      const room = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await alice.context.storageState(),
      });
      const roomPage = new RoomPage(room);
      await roomPage.goto(`/chat/${ROOM}/`);
      await roomPage.expectJoined(ROOM);
      await expect(roomPage.messages).toHaveCount(6);
      await roomPage.messageInput.fill('Sure, on it');
      // Bob keeps typing (the server passes on one typing notice a second) until Alice sees it.
      await expect(async () => {
        await bob.room.messageInput.press('a');
        await expect(roomPage.typing).toHaveText('Bob is typing…', { timeout: 1_000 });
      }).toPass();
      await shoot(room, `room-${colorScheme}-${device}.png`);
      await room.context().close();

      const lobby = await open(browser, { ...options, colorScheme, baseURL: serverA }, 'Erin');
      const lobbyPage = new LobbyPage(lobby);
      await lobbyPage.goto();
      await expect(lobbyPage.activeRooms.getByRole('listitem')).toHaveCount(3);
      await expect(lobbyPage.activeRoom(ROOM)).toHaveAttribute('data-members', '3');
      await shoot(lobby, `lobby-${colorScheme}-${device}.png`);
      await lobby.context().close();
    }
  }
});

// docs/screenshots/changes-{light,dark}-{desktop,phone}.png: a message edited, one deleted,
// reactions, a reply with its quote and some formatting, with one message's actions showing.
test('README screenshots: messages people fixed and answered', async ({ browser, openPerson, serverA }) => {
  const room = 'design_review';
  const alice = await openPerson('A', { name: 'Alice' });
  const bob = await openPerson('A', { name: 'Bob' });
  const carol = await openPerson('A', { name: 'Carol' });
  for (const person of [alice, bob, carol]) {
    await person.room.goto(`/chat/${room}/`);
    await person.room.expectJoined(room);
  }
  const say = async (person: Person, text: string) => {
    await person.room.send(text);
    await person.room.expectMessage(text);
  };
  const nit = 'Looks great! One nit: the Continue button says Contine';
  await say(alice, 'The new onboarding flow is ready for review: https://example.com/onboarding');
  await bob.room.send('Looks great! One nit: the **Continue** button says `Contine`');
  await bob.room.expectMessage(nit);
  await alice.room.messageAction(alice.room.message(nit), 'Reply');
  await alice.room.send('Good catch, fixed *and* deployed');
  await bob.room.expectMessage('Good catch, fixed and deployed');
  await say(bob, 'wrong room, sorry');
  await bob.room.messageAction(bob.room.message('wrong room, sorry'), 'Delete');
  await bob.page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(alice.room.tombstones).toHaveCount(1);
  await carol.room.send('> fixed and deployed\n\nThanks @Alice, shipping it today');
  // Alice fixes her first message.
  await alice.room.messageAction(
    alice.room.message('The new onboarding flow is ready for review: https://example.com/onboarding'),
    'Edit',
  );
  const first = 'The new onboarding flow is ready for review: https://example.com/onboarding (v2)';
  await alice.room.messageInput.fill(first);
  await alice.room.messageInput.press('Enter');
  await bob.room.expectMessage(first);
  await bob.room.react(bob.room.message(first), 'party popper');
  await carol.room.react(carol.room.message(first), 'party popper');
  await carol.room.react(carol.room.message(first), 'thumbs up');
  await alice.room.react(alice.room.message('Good catch, fixed and deployed'), 'red heart');
  await expect(alice.room.reaction(alice.room.message(first), '🎉')).toHaveText(/2/);

  mkdirSync(OUT, { recursive: true });
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await alice.context.storageState(),
      });
      const roomPage = new RoomPage(page);
      await roomPage.goto(`/chat/${room}/`);
      await roomPage.expectJoined(room);
      await expect(roomPage.tombstones).toHaveCount(1);
      await expect(roomPage.reaction(roomPage.message(first), '🎉')).toBeVisible();
      // One message's actions, as a pointer or a tap shows them.
      const target = roomPage.message(nit);
      const menu = target.getByTestId('message-menu');
      if (await menu.isVisible()) await menu.click();
      else await target.hover();
      await expect(target.getByRole('toolbar')).toBeVisible();
      await shoot(page, `changes-${colorScheme}-${device}.png`);
      await page.context().close();
    }
  }
});

// docs/screenshots/moderation-{light,dark}-{desktop,phone}.png: the owner's menu on a disruptive
// person, with the owner and moderator badges and a moderation line; and
// docs/screenshots/banned-{light,dark}-{desktop,phone}.png: what that person sees once banned.
test('README screenshots: moderation', async ({ browser, openPerson, serverA }) => {
  const room = 'community_garden';
  const olga = await openPerson('A', { name: 'Olga' });
  const bob = await openPerson('A', { name: 'Bob' });
  const carl = await openPerson('A', { name: 'Carl' });
  for (const person of [olga, bob, carl]) {
    await person.room.goto(`/chat/${room}/`);
    await person.room.expectJoined(room);
  }
  const say = async (person: Person, text: string) => {
    await person.room.send(text);
    await olga.room.expectMessage(text);
  };
  // Olga posts first: the room is hers. She makes Bob a moderator.
  await say(olga, 'Welcome to the community garden! Plots are handed out on Saturday at 10.');
  const menuOf = async (page: Page, name: string) => {
    const entry = page
      .getByRole('list', { name: 'People here', includeHidden: true })
      .getByRole('listitem', { includeHidden: true })
      .filter({ hasText: new RegExp(`^\\s*${name}\\b`) });
    await entry.getByRole('button', { name: `Moderate ${name}` }).click();
    return page.getByRole('menu', { name: `Moderate ${name}` });
  };
  const dialog = olga.page.getByTestId('moderation-dialog');
  await (await menuOf(olga.page, 'Bob')).getByRole('menuitem', { name: 'Make moderator' }).click();
  await dialog.getByRole('button', { name: 'Make moderator' }).click();
  await expect(dialog).toBeHidden();
  await say(bob, 'I will bring the seed list and the spare gloves.');
  await say(carl, 'BUY CHEAP WATCHES at example.com/watches');
  await say(carl, 'BUY CHEAP WATCHES at example.com/watches!!!');

  mkdirSync(OUT, { recursive: true });
  // Olga's menu on Carl, before any ban (a ban also keys on the address, which every browser
  // here shares).
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await olga.context.storageState(),
      });
      const roomPage = new RoomPage(page);
      await roomPage.goto(`/chat/${room}/`);
      await roomPage.expectJoined(room);
      await expect(roomPage.messages).toHaveCount(4);
      if ((await roomPage.membersToggle.getAttribute('aria-expanded')) === 'false')
        await roomPage.membersToggle.click();
      await expect((await menuOf(page, 'Carl')).getByRole('menuitem').first()).toBeFocused();
      await shoot(page, `moderation-${colorScheme}-${device}.png`);
      await page.context().close();
    }
  }

  // Carl banned, in each size and theme; then unbanned from the line of the ban.
  await carl.page.close();
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await carl.context.storageState(),
      });
      const roomPage = new RoomPage(page);
      await roomPage.goto(`/chat/${room}/`);
      await roomPage.expectJoined(room);
      await (await menuOf(olga.page, 'Carl')).getByRole('menuitem', { name: 'Ban' }).click();
      await dialog.getByRole('radio', { name: '1 day' }).check();
      await dialog.getByLabel(/^Reason/).fill('selling watches');
      await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
      await expect(dialog).toBeHidden();
      await expect(page.getByTestId('removed')).toContainText('selling watches');
      await shoot(page, `banned-${colorScheme}-${device}.png`);
      await page.context().close();
      await olga.room.log.getByRole('button', { name: 'Unban Carl' }).last().click();
      await dialog.getByRole('button', { name: 'Unban', exact: true }).click();
      await expect(dialog).toBeHidden();
    }
  }
});

// docs/screenshots/settings-{light,dark}-{desktop,phone}.png: the owner's room settings dialog
// over the room, with the topic under the room's name and the log's lines of the change.
test('README screenshots: room settings', async ({ browser, openPerson, serverA }) => {
  const room = 'seed_swap';
  const olga = await openPerson('A', { name: 'Olga' });
  const bob = await openPerson('A', { name: 'Bob' });
  for (const person of [olga, bob]) {
    await person.room.goto(`/chat/${room}/`);
    await person.room.expectJoined(room);
  }
  const say = async (person: Person, text: string) => {
    await person.room.send(text);
    await olga.room.expectMessage(text);
  };
  // Olga posts first: the room is hers.
  await say(olga, 'Welcome to the seed swap! Tomatoes, beans and herbs so far.');
  await say(bob, 'I have runner beans to spare.');
  const dialog = await olga.room.openSettings();
  await dialog.getByLabel('Topic').fill('Bring seeds in labelled envelopes · swaps on Saturday at 10');
  await dialog.getByRole('radio', { name: '30 s' }).check();
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(bob.page.getByTestId('slow-mode')).toBeVisible();
  await say(bob, 'See you Saturday.');

  mkdirSync(OUT, { recursive: true });
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await olga.context.storageState(),
      });
      const roomPage = new RoomPage(page);
      await roomPage.goto(`/chat/${room}/`);
      await roomPage.expectJoined(room);
      await expect(roomPage.messages).toHaveCount(3);
      const shown = await roomPage.openSettings();
      await expect(shown.getByRole('radio', { name: '30 s' })).toBeChecked();
      // The focus ring of the topic field would be the first thing seen: start on the dialog.
      await shown.getByRole('heading', { name: 'Room settings' }).click();
      await shoot(page, `settings-${colorScheme}-${device}.png`);
      await page.context().close();
    }
  }
});

// docs/screenshots/invite-{light,dark}-{desktop,phone}.png: a moderator's Invite people dialog
// (from the header's Moderation tools, the Room menu on a phone) with a link made, in an invite-only room. Not in the README.
test('README screenshots: invite link', async ({ browser, openPerson, serverA }) => {
  const room = 'book_club';
  const olga = await openPerson('A', { name: 'Olga' });
  await olga.room.goto(`/chat/${room}/`);
  await olga.room.expectJoined(room);
  await olga.room.send('This month: The Left Hand of Darkness. Invites only, please.');
  await olga.room.makeInviteOnly();

  mkdirSync(OUT, { recursive: true });
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, {
        ...options,
        colorScheme,
        baseURL: serverA,
        storageState: await olga.context.storageState(),
      });
      const roomPage = new RoomPage(page);
      await roomPage.goto(`/chat/${room}/`);
      await roomPage.expectJoined(room);
      const dialog = await roomPage.openTool('Invite people');
      await dialog.getByRole('radio', { name: '7 days' }).check();
      await dialog.getByRole('button', { name: 'Create link' }).click();
      await expect(dialog.getByTestId('invite-expiry')).toContainText('Expires in 7 days');
      await dialog.getByRole('heading').click();
      await shoot(page, `invite-${colorScheme}-${device}.png`);
      await page.context().close();
    }
  }
});

test('README screenshots: the operator page', async ({ browser, openPerson, serverA }) => {
  // Two rooms, one of them unlisted (the operator sees it anyway), and one instance-wide ban.
  const olga = await openPerson('A', { name: 'Olga' });
  await olga.room.goto('/chat/garden_club/');
  await olga.room.expectJoined('garden_club');
  await olga.room.send('Seedlings are ready for pickup on Saturday.');
  const nina = await openPerson('A', { name: 'Nina' });
  await nina.room.goto('/chat/staff_room/');
  await nina.room.expectJoined('staff_room');
  await nina.room.send('Rota for next week is up.');
  const settings = await nina.room.openSettings();
  await settings.getByRole('checkbox', { name: 'Hide from the room list' }).check();
  await settings.getByRole('button', { name: 'Save' }).click();
  await expect(settings).toBeHidden();
  const ban = await fetch(`${serverA}/api/admin/bans`, {
    method: 'POST',
    headers: { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ address: '203.0.113.9', durationSeconds: 7 * 24 * 3600, reason: 'spam in every room' }),
  });
  expect(ban.status).toBe(201);

  mkdirSync(OUT, { recursive: true });
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of SCHEMES) {
      const page = await open(browser, { ...options, colorScheme, baseURL: serverA });
      await page.goto('/admin/');
      await page.getByLabel('Operator token').fill(E2E_ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('link', { name: 'staff_room' })).toBeVisible();
      await shoot(page, `admin-${colorScheme}-${device}.png`);
      await page.context().close();
    }
  }
});

// docs/screenshots/big-room-{light,dark}-{desktop,phone}.png: a room of 1,234 people, its
// member panel open: the count, the first people listed and the rest offered. On a server of its
// own (connections per address unlimited, since every guest comes from 127.0.0.1), so the
// lobby's pictures above list only their three rooms.
test('README screenshots: a big room', async ({ browser, openPerson }) => {
  test.setTimeout(180_000);
  const room = 'launch_day';
  const server = await startOwnServer({ MAX_CONNECTIONS_PER_IP: '0' });
  try {
    const host = await openPerson(server.origin, { name: 'Maya' });
    const guest = await openPerson(server.origin, { name: 'Jonas' });
    for (const person of [host, guest]) {
      await person.room.goto(`/chat/${room}/`);
      await person.room.expectJoined(room);
    }
    await host.room.send('Doors open in five minutes: the stream starts at 18:00 sharp.');
    await guest.room.send('Hello from Lisbon! The sound is great.');
    await host.room.expectMessage('Hello from Lisbon! The sound is great.');
    // Chromium holds about 255 WebSockets per browser context: 200 guests in each of a few.
    const guests: Page[] = [];
    for (let first = 1; first <= 1_232; first += 200) {
      const page = await open(browser, { baseURL: server.origin });
      await page.goto('/healthz');
      await page.evaluate(openGuests, { room, first, count: Math.min(200, 1_233 - first) });
      guests.push(page);
    }
    await host.room.send('1,234 of you already: welcome, everyone!');

    mkdirSync(OUT, { recursive: true });
    for (const [device, options] of Object.entries(DEVICES)) {
      for (const colorScheme of SCHEMES) {
        const page = await open(browser, {
          ...options,
          colorScheme,
          baseURL: server.origin,
          storageState: await host.context.storageState(),
        });
        const roomPage = new RoomPage(page);
        await roomPage.goto(`/chat/${room}/`);
        await roomPage.expectJoined(room);
        await expect(roomPage.messages).toHaveCount(3);
        await expect(roomPage.membersToggle).toHaveText(/1,234/);
        if ((await roomPage.membersToggle.getAttribute('aria-expanded')) === 'false')
          await roomPage.membersToggle.click();
        await expect(page.getByTestId('members-partial')).toContainText('of 1,234');
        await shoot(page, `big-room-${colorScheme}-${device}.png`);
        await page.context().close();
      }
    }
    for (const page of guests) await page.context().close();
  } finally {
    await server.stop();
  }
});

async function open(browser: Browser, options: BrowserContextOptions, name?: string): Promise<Page> {
  const context = await browser.newContext(options);
  if (name !== undefined) await rememberName(context, name);
  return context.newPage();
}

async function shoot(page: Page, file: string): Promise<void> {
  // Nothing may stick out sideways in a picture that is meant to show the layout.
  await expectNoHorizontalScroll(page);
  await page.screenshot({ path: resolve(OUT, file), animations: 'disabled' });
}
