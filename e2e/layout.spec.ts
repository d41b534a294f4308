import { expectNoHorizontalScroll } from './checks.ts';
import { expect, test } from './fixtures.ts';

test.describe('layout', () => {
  test('on a 375 px phone the room and the lobby fit the width; the member list is a sheet the header opens', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('phone');
    const alice = await openPerson('A', { name: 'Alice' });
    const bob = await openPerson('B', { name: 'Bob' });
    await alice.page.setViewportSize({ width: 375, height: 667 });
    await bob.page.setViewportSize({ width: 960, height: 760 });
    await alice.room.goto(`/chat/${room}/`);
    await bob.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await bob.room.expectJoined(room);

    await alice.room.send('The notes from last week are at https://example.com/notes');
    await bob.room.send('Three things are left:\n1. the e2e suite\n2. the screenshots\n3. the release notes');
    await bob.room.send('A long word, to check wrapping: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen');
    await alice.room.expectMessage(
      'A long word, to check wrapping: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen',
    );

    // Wide: the member list is a panel beside the conversation, open unless closed.
    await expect(bob.room.memberList).toBeVisible();
    await expect(bob.room.members).toHaveText(['Bob (you)', 'Alice']);
    await expect(bob.room.membersToggle).toHaveAttribute('aria-expanded', 'true');
    await bob.room.membersToggle.click();
    await expect(bob.room.memberList).toBeHidden();

    // A phone: the people button in the header opens it as a sheet; Escape closes it again.
    await expect(alice.room.memberList).toBeHidden();
    await expect(alice.room.membersToggle).toHaveAttribute('aria-expanded', 'false');
    await expect(alice.room.membersToggle).toHaveText(/2/);
    await alice.room.membersToggle.click();
    await expect(alice.room.memberList).toBeVisible();
    await expect(alice.room.members).toHaveText(['Alice (you)', 'Bob']);
    await expectNoHorizontalScroll(alice.page);
    await alice.page.keyboard.press('Escape');
    await expect(alice.room.memberList).toBeHidden();
    await expect(alice.room.membersToggle).toBeFocused();

    for (const person of [alice, bob]) {
      await expectNoHorizontalScroll(person.page);
      await expect(person.room.sendButton).toBeInViewport();
      await expect(person.room.messageInput).toBeInViewport();
      await expect(person.room.lobbyLink).toBeInViewport();
    }

    // Someone new in the lobby, on a phone.
    const erin = await openPerson('A', { name: 'Erin' });
    await erin.page.setViewportSize({ width: 375, height: 667 });
    await erin.lobby.goto();
    await expect(erin.lobby.activeRoom(room)).toHaveAttribute('data-members', '2');
    await expectNoHorizontalScroll(erin.page);
  });
});
