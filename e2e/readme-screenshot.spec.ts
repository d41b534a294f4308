import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, repoRoot, test } from './fixtures.ts';

// Two people chatting, one of them on a phone-sized screen. Always checks that the room and the
// lobby fit 375 px without sideways scrolling; with UPDATE_SCREENSHOTS=1 (in the memory project,
// against freshly started servers) it also refreshes the README's pictures.
const ROOM_SCREENSHOT = resolve(repoRoot, 'docs/screenshots/room.png');
const LOBBY_SCREENSHOT = resolve(repoRoot, 'docs/screenshots/lobby.png');

async function expectFitsWidth(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, 'no sideways scrolling').toBeLessThanOrEqual(0);
}

test('the room and the lobby fit a 375 px phone screen (and make the README screenshots)', async ({ openPerson, uniqueRoom, engine }) => {
  const updating = process.env.UPDATE_SCREENSHOTS === '1' && engine === 'memory';
  // The README shows room names; a fresh test server has no other rooms, so fixed ones are safe.
  const room = updating ? 'release_planning' : uniqueRoom('phone');
  const alice = await openPerson('A', { name: 'Alice' });
  const bob = await openPerson('B', { name: 'Bob' });
  await alice.page.setViewportSize({ width: 375, height: 667 });
  await bob.page.setViewportSize({ width: 960, height: 760 });

  await alice.room.goto(`/chat/${room}/`);
  await bob.room.goto(`/chat/${room}/`);
  await alice.room.expectJoined(room);
  await bob.room.expectJoined(room);

  const lines = [
    ['A', 'Hi! Is this the room for the release planning?'],
    ['A', 'The notes from last week are at https://example.com/notes'],
    ['B', 'It is. Welcome, Alice!'],
    ['B', 'Can we ship on Friday?'],
    ['A', 'If the e2e suite is green three times in a row, yes.'],
    ['B', 'A long word, to check wrapping: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen'],
  ] as const;
  for (const [who, text] of lines) {
    const person = who === 'A' ? alice : bob;
    await person.room.send(text);
    await person.room.expectMessage(text);
  }
  for (const [, text] of lines) await alice.room.expectMessage(text);

  const carol = await openPerson('A', { name: 'Carol' });
  await carol.room.goto(`/chat/${room}/`);
  await carol.room.expectJoined(room);
  await carol.room.send('Count me in for Friday');
  await bob.room.expectMessage('Count me in for Friday');
  await expect(bob.room.members).toHaveText(['Bob (you)', 'Alice', 'Carol']);

  for (const person of [alice, bob]) {
    await expectFitsWidth(person.page);
    await expect(person.room.sendButton).toBeInViewport();
    await expect(person.room.messageInput).toBeInViewport();
  }

  if (updating) {
    mkdirSync(dirname(ROOM_SCREENSHOT), { recursive: true });
    // Alice keeps typing (the server passes on one typing notice a second) until Bob sees it.
    await expect(async () => {
      await alice.room.messageInput.press('a');
      await expect(bob.room.typing).toHaveText('Alice is typing…', { timeout: 1_000 });
    }).toPass();
    await bob.room.messageInput.fill('Sounds good, see you Friday');
    await bob.page.screenshot({ path: ROOM_SCREENSHOT });

    // A few more rooms in use, for the lobby's list.
    for (const [name, other] of [['Dave', 'design_review'], ['Eun-ji', '한국어']] as const) {
      const person = await openPerson('B', { name });
      await person.room.goto(`/chat/${other}/`);
      await person.room.expectJoined(other);
    }
  }

  // Someone new in the lobby, on a phone.
  const erin = await openPerson('A', { name: 'Erin' });
  await erin.page.setViewportSize({ width: 375, height: 667 });
  await erin.lobby.goto();
  await expect(erin.lobby.activeRoom(room)).toHaveAttribute('data-members', '3');
  await expectFitsWidth(erin.page);

  if (updating) {
    await erin.page.setViewportSize({ width: 960, height: 720 });
    await expect(erin.lobby.activeRooms.getByRole('listitem')).toHaveCount(3);
    await erin.lobby.roomName.fill('release_planning');
    await erin.page.screenshot({ path: LOBBY_SCREENSHOT });
  }
});
