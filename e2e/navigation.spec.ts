import { expect, test } from './fixtures.ts';

test.describe('navigation', () => {
  test('/ goes to the lobby at /chat/', async ({ page, lobbyPage }) => {
    await page.goto('/');
    await expect(lobbyPage.question).toBeVisible();
    await expect(page).toHaveURL(/\/chat\/$/);
    await expect(lobbyPage.roomName).toBeFocused();
    await expect(page).toHaveTitle(/Lobby/);
  });

  test('a Unicode room name works and reads correctly in the address bar', async ({ openPerson }) => {
    const room = '한국어';
    const alice = await openPerson('A');
    const bob = await openPerson('B');

    await alice.lobby.goto();
    await alice.lobby.enterRoom(room);
    await alice.room.expectJoined(room);
    expect(alice.room.decodedPath()).toBe('/chat/한국어/');
    expect(new URL(alice.page.url()).pathname).toBe(`/chat/${encodeURIComponent(room)}/`);

    // Typed straight into the address bar, unencoded, it is the same room.
    await bob.room.goto('/chat/한국어/');
    await bob.room.expectJoined(room);

    const text = `안녕하세요 ${Date.now()}`;
    await bob.room.send(text);
    await alice.room.expectMessage(text);
    await bob.room.expectMessage(text);
  });

  test('a room URL can be reloaded (deep link) and still chats', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('reload');
    const alice = await openPerson('A');
    const bob = await openPerson('B');

    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await alice.page.reload();
    await alice.room.expectJoined(room);

    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await alice.room.send('still here after a reload');
    await bob.room.expectMessage('still here after a reload');
  });

  test('a room URL without the trailing slash is canonicalized', async ({ roomPage, uniqueRoom, page }) => {
    const room = uniqueRoom('slash');
    await roomPage.goto(`/chat/${room}`);
    await roomPage.expectJoined(room);
    expect(new URL(page.url()).pathname).toBe(`/chat/${room}/`);
  });

  test('an invalid room name in the lobby gets an inline explanation', async ({ lobbyPage, page }) => {
    await lobbyPage.goto();
    await lobbyPage.enterRoom('no spaces please');
    await expect(lobbyPage.roomProblem).toContainText('a space is not allowed');
    await expect(lobbyPage.roomName).toHaveAttribute('aria-invalid', 'true');
    await expect(page).toHaveURL(/\/chat\/$/);

    await lobbyPage.enterRoom('slash/room', 'button');
    await expect(lobbyPage.roomProblem).toContainText('"/" (U+002F) is not allowed');

    await lobbyPage.roomName.fill('');
    await lobbyPage.roomName.press('Enter');
    await expect(lobbyPage.roomProblem).toHaveText('Room name is empty.');

    // Typing again clears the complaint.
    await lobbyPage.roomName.pressSequentially('ok');
    await expect(lobbyPage.roomProblem).toHaveCount(0);
  });

  test('an invalid room name in the URL shows the reason and a way back', async ({ page, lobbyPage }) => {
    await page.goto('/chat/bad%20room!/');
    await expect(page.getByRole('heading', { name: 'That room name does not work' })).toBeVisible();
    await expect(page.getByRole('alert')).toContainText('a space is not allowed');
    await page.getByRole('link', { name: 'Go to the lobby' }).click();
    await expect(lobbyPage.question).toBeVisible();
    await expect(page).toHaveURL(/\/chat\/$/);
  });

  test('an unknown path shows "not found" with a link to the lobby', async ({ page, lobbyPage }) => {
    await page.goto('/no/such/page');
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
    await page.getByRole('link', { name: 'Go to the lobby' }).click();
    await expect(lobbyPage.question).toBeVisible();
  });

  test('moving between lobby and rooms does not reload the page; Back works', async ({
    page,
    lobbyPage,
    roomPage,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('history');
    await lobbyPage.goto();
    // A marker on window survives client-side navigation only.
    await page.evaluate(() => ((window as { __marker?: number }).__marker = 42));

    await lobbyPage.enterRoom(room);
    await roomPage.expectJoined(room);
    await roomPage.lobbyLink.click();
    await expect(lobbyPage.question).toBeVisible();
    await page.goBack();
    await roomPage.expectJoined(room);
    await page.goBack();
    await expect(lobbyPage.question).toBeVisible();

    expect(await page.evaluate(() => (window as { __marker?: number }).__marker)).toBe(42);
  });
});
