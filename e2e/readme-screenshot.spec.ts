import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { expect, repoRoot, test } from './fixtures.ts';

// Two people chatting on a phone-sized screen. Always checks that the room fits 375 px without
// sideways scrolling; with UPDATE_SCREENSHOTS=1 it also refreshes the README's picture.
const SCREENSHOT = resolve(repoRoot, 'docs/screenshots/room.png');

test('the room fits a 375 px phone screen (and makes the README screenshot)', async ({ openPerson, uniqueRoom, engine }) => {
  const updating = process.env.UPDATE_SCREENSHOTS === '1' && engine === 'memory';
  // The README shows the room's name; a fresh test server has no history, so a fixed one is safe.
  const room = updating ? 'release_planning' : uniqueRoom('phone');
  const alice = await openPerson('A');
  const bob = await openPerson('B');
  await alice.page.setViewportSize({ width: 375, height: 667 });
  await bob.page.setViewportSize({ width: 900, height: 640 });

  await alice.room.goto(`/chat/${room}/`);
  await bob.room.goto(`/chat/${room}/`);
  await alice.room.expectJoined(room);
  await bob.room.expectJoined(room);

  const lines = [
    ['A', 'Hi! Is this the room for the release planning?'],
    ['B', 'It is. Welcome!'],
    ['A', 'Great. Can we ship on Friday?'],
    ['B', 'If the e2e suite is green three times in a row, yes.'],
    ['A', 'A very long word to check wrapping: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen'],
  ] as const;
  for (const [who, text] of lines) await (who === 'A' ? alice : bob).room.send(text);
  for (const [, text] of lines) await bob.room.expectMessage(text);
  for (const [, text] of lines) await alice.room.expectMessage(text);

  for (const person of [alice, bob]) {
    const overflow = await person.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow, 'no sideways scrolling').toBeLessThanOrEqual(0);
    await expect(person.room.sendButton).toBeInViewport();
    await expect(person.room.messageInput).toBeInViewport();
  }

  if (updating) {
    await bob.room.messageInput.fill('Sounds good, see you Friday');
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await bob.page.screenshot({ path: SCREENSHOT });
  }
});
