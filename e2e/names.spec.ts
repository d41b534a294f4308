import type { Locator } from '@playwright/test';
import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test } from './fixtures.ts';

/** The tag a `UserTag` shows (drawn by CSS from `data-tag`, so read from there). */
const tagOf = (scope: Locator) => scope.getByTestId('user-tag').first().getAttribute('data-tag');
/** What the tag draws: the CSS content of its ::before. */
const drawnTag = (scope: Locator) =>
  scope
    .getByTestId('user-tag')
    .first()
    .evaluate((tag) => getComputedStyle(tag, '::before').content);

const LOOKALIKE = "looks like another member's name";
// "Аlice" with a Cyrillic capital А (U+0410): the same pixels as "Alice" in most fonts.
const CYRILLIC_ALICE = '\u0410lice';

test.describe('names you can trust', () => {
  test('two people called Alice and Аlice (Cyrillic А) are both marked, each with a tag of their own', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('names');
    const alice = await openPerson('A', { name: 'Alice' });
    const impostor = await openPerson('B', { name: CYRILLIC_ALICE });
    const bob = await openPerson('A', { name: 'Bob' });
    for (const person of [alice, impostor, bob]) {
      await person.room.goto(`/chat/${room}/`);
      await person.room.expectJoined(room);
    }
    await alice.room.send('Hi, it is me');
    await impostor.room.send('No, it is me');
    await bob.room.expectMessage('No, it is me');

    // The member list, where it is a closed sheet (a phone) too.
    if ((await bob.room.membersToggle.getAttribute('aria-expanded')) === 'false') await bob.room.membersToggle.click();
    await expect(bob.room.memberList).toBeVisible();
    await expect(bob.room.members).toHaveCount(3);
    // (The text of a list item starts with the white space of its markup.)
    const realEntry = bob.room.members.filter({ hasText: /^\s*Alice/ });
    const fakeEntry = bob.room.members.filter({ hasText: new RegExp(`^\\s*${CYRILLIC_ALICE}`) });
    const bobEntry = bob.room.members.filter({ hasText: /^\s*Bob/ });
    for (const entry of [realEntry, fakeEntry]) {
      await expect(entry.getByTestId('lookalike')).toBeVisible();
      await expect(entry.getByTestId('lookalike')).toContainText(LOOKALIKE, { ignoreCase: true });
    }
    await expect(bobEntry.getByTestId('lookalike')).toHaveCount(0);

    // Tags: shown, four characters, different for the two Alices.
    const realTag = await tagOf(realEntry);
    const fakeTag = await tagOf(fakeEntry);
    expect(realTag).toMatch(/^[0-9a-z]{4}$/);
    expect(fakeTag).toMatch(/^[0-9a-z]{4}$/);
    expect(fakeTag).not.toEqual(realTag);
    // Drawn after a "#", and taking room on screen (the element itself is empty).
    expect(await drawnTag(realEntry)).toMatch(/#/);
    await expect(realEntry.getByTestId('user-tag')).toBeVisible();
    await expect(fakeEntry.getByTestId('user-tag')).toBeVisible();

    // Their messages carry the same tags and the mark, for everyone.
    for (const person of [alice, bob]) {
      const realGroup = person.room.groupOf('Hi, it is me');
      const fakeGroup = person.room.groupOf('No, it is me');
      expect(await tagOf(realGroup)).toBe(realTag);
      expect(await tagOf(fakeGroup)).toBe(fakeTag);
      for (const group of [realGroup, fakeGroup]) {
        await expect(group.getByTestId('lookalike')).toBeVisible();
        await expect(group.getByTestId('lookalike')).toContainText(LOOKALIKE);
      }
    }
    // The same person, whatever their browser: the tag is derived from the id, not kept locally.
    expect(await tagOf(impostor.room.groupOf('No, it is me'))).toBe(fakeTag);

    // Bob is like nobody else: no mark on his messages.
    await bob.room.send('Which of you is which?');
    await expect(alice.room.groupOf('Which of you is which?').getByTestId('lookalike')).toHaveCount(0);
    await expect(alice.room.groupOf('Which of you is which?').getByTestId('user-tag')).toBeVisible();

    await expectAxeClean(bob.page);
    await expectNoHorizontalScroll(bob.page);

    // Once the impostor leaves, nobody is marked any more.
    await impostor.context.close();
    await expect(alice.room.members).toHaveCount(2);
    await expect(alice.room.log.getByTestId('lookalike')).toHaveCount(0);
    await expect(alice.room.memberList.getByTestId('lookalike')).toHaveCount(0);
  });

  test('the typing line and a reply show the tag after the name', async ({ openPair, uniqueRoom }) => {
    const room = uniqueRoom('names_tags');
    const { alice, bob } = await openPair(room);
    await bob.room.send('Lunch at one?');
    await alice.room.expectMessage('Lunch at one?');
    const bobTag = await tagOf(alice.room.groupOf('Lunch at one?'));

    // The server passes on one typing notice a second per person: keep typing until one shows.
    await expect(async () => {
      await bob.room.messageInput.press('a');
      await expect(alice.room.typing).toHaveText('Bob is typing…', { timeout: 1_000 });
    }).toPass();
    expect(await tagOf(alice.room.typing)).toBe(bobTag);
    await bob.room.messageInput.fill('');

    await alice.room.messageAction(alice.room.message('Lunch at one?'), 'Reply');
    expect(await tagOf(alice.room.composerMode)).toBe(bobTag);
    await alice.room.send('Yes!');
    await bob.room.expectMessage('Yes!');
    expect(await tagOf(bob.room.message('Yes!').getByTestId('reply-quote'))).toBe(bobTag);
  });

  test('Lobby and lobby open the same room, whichever way it is typed', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('lobby');
    // `Lobby_…` in a link, `LOBBY_…` typed in the lobby: both are the room `lobby_…`.
    const capitalised = room.charAt(0).toUpperCase() + room.slice(1);
    const alice = await openPerson('A');
    const bob = await openPerson('B');

    // A link with capitals shows the room of the lower-case name, and the address says so.
    await alice.room.goto(`/chat/${capitalised}/`);
    await alice.room.expectJoined(room);
    await expect(alice.page).toHaveURL(new RegExp(`/chat/${room}/$`));

    // The lobby's form folds the name too.
    await bob.lobby.goto();
    await bob.lobby.enterRoom(room.toUpperCase());
    await bob.room.expectJoined(room);
    await expect(bob.page).toHaveURL(new RegExp(`/chat/${room}/$`));

    await alice.room.send('same room?');
    await bob.room.expectMessage('same room?');
    await expect(bob.room.members).toHaveCount(2);
  });
});
