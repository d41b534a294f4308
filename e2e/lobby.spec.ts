import { expect, test } from './fixtures.ts';

test.describe('lobby', () => {
  test('lists active rooms with member counts, refreshes on its own, and enters one on click', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('listed');
    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);

    const alice = await openPerson('A', { name: 'Alice' });
    await alice.lobby.goto();
    await expect(alice.lobby.activeRoom(room)).toHaveAttribute('data-members', '1');
    await expect(alice.lobby.activeRoom(room)).toContainText('1 person here');

    const carol = await openPerson('B', { name: 'Carol' });
    await carol.room.goto(`/chat/${room}/`);
    await carol.room.expectJoined(room);
    await expect(alice.lobby.activeRoom(room)).toHaveAttribute('data-members', '2');
    await expect(alice.lobby.activeRoom(room)).toContainText('2 people here');

    await alice.lobby.activeRoom(room).getByRole('link').click();
    await alice.room.expectJoined(room);
    await expect(alice.room.members).toHaveText(['Alice (you)', 'Bob', 'Carol']);
  });

  test('says so when no room is active', async ({ lobbyPage, page }) => {
    await page.route('**/api/rooms', (route) => route.fulfill({ json: { rooms: [] } }));
    await lobbyPage.goto();
    await expect(lobbyPage.noRooms).toBeVisible();
  });

  test('remembers the display name, and refuses an invalid one', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('named');
    const zoe = await openPerson('A', { name: null });
    await zoe.lobby.goto();
    // Nobody has chosen a name in this browser yet: that field comes first.
    await expect(zoe.lobby.displayName).toBeFocused();
    await expect(zoe.lobby.displayName).toHaveValue('');

    await zoe.lobby.displayName.fill('x'.repeat(33));
    await zoe.lobby.enterRoom(room);
    await expect(zoe.lobby.nameProblem).toHaveText('Display name is 33 characters long; the limit is 32.');
    await expect(zoe.lobby.displayName).toHaveAttribute('aria-invalid', 'true');
    await expect(zoe.lobby.displayName).toBeFocused();

    await zoe.lobby.displayName.fill('  Zoë  ');
    await zoe.lobby.enterRoom(room);
    await zoe.room.expectJoined(room);
    await expect(zoe.room.members).toHaveText(['Zoë (you)']);

    await zoe.page.reload();
    await zoe.room.expectJoined(room);
    await zoe.room.lobbyLink.click();
    await expect(zoe.lobby.displayName).toHaveValue('Zoë');
    await expect(zoe.lobby.roomName).toBeFocused();
  });

  test('a room link opened before any name was chosen asks for one first', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('linked');
    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);

    const newcomer = await openPerson('A', { name: null });
    await newcomer.room.goto(`/chat/${room}/`);
    await expect(newcomer.room.heading(room)).toBeVisible();
    await expect(newcomer.room.nameInput).toBeFocused();
    await expect(newcomer.room.log).toHaveCount(0);

    await newcomer.room.joinButton.click();
    await expect(newcomer.page.getByTestId('name-problem')).toHaveText('Display name is empty.');
    await newcomer.room.nameInput.fill('Newcomer');
    await newcomer.room.nameInput.press('Enter');
    await newcomer.room.expectJoined(room);
    await expect(bob.room.members).toHaveText(['Bob (you)', 'Newcomer']);
  });
});
