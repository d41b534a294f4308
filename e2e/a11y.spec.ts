import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test } from './fixtures.ts';

test.describe('accessibility', () => {
  test('the lobby, with active rooms and a refused name, passes axe (any impact)', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('axe_lobby');
    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);

    const alice = await openPerson('A', { name: null });
    await alice.lobby.goto();
    await expect(alice.lobby.activeRoom(room)).toBeVisible();
    await expectAxeClean(alice.page);
    await expectNoHorizontalScroll(alice.page);

    await alice.lobby.enterRoom('not valid!');
    await expect(alice.lobby.nameProblem).toBeVisible();
    await expect(alice.lobby.roomProblem).toBeVisible();
    await expectAxeClean(alice.page);
  });

  test('a room in full use passes axe (any impact)', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('axe_room');
    const alice = await openPerson('A', { name: 'Alice' });
    const bob = await openPerson('B', { name: 'Bob' });
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);

    await alice.room.send('Hello! The notes are at https://example.com/notes');
    await bob.room.send('Thanks, reading them now');
    await bob.room.send('A long word: Donaudampfschifffahrtsgesellschaftskapitänsmützenabzeichen');
    await alice.room.expectMessage('Thanks, reading them now');
    // The server passes on one typing notice a second per person: keep typing until one shows.
    await expect(async () => {
      await bob.room.messageInput.press('a');
      await expect(alice.room.typing).toHaveText('Bob is typing…', { timeout: 1_000 });
    }).toPass();
    // One message waits for the connection: its state is shown too.
    await alice.context.setOffline(true);
    await alice.room.send('waiting for the network');
    await alice.room.expectState('waiting for the network', 'pending');
    await expect(alice.room.reconnecting).toBeVisible();
    // The member panel is checked too, also where it is a closed sheet (a phone).
    if ((await alice.room.membersToggle.getAttribute('aria-expanded')) === 'false')
      await alice.room.membersToggle.click();
    await expect(alice.room.memberList).toBeVisible();

    await expectAxeClean(alice.page);
    await expectNoHorizontalScroll(alice.page);
    await alice.context.setOffline(false);
    await alice.room.expectMessage('waiting for the network');
    await expectAxeClean(bob.page);
  });

  test('the name form of a room link passes axe (any impact)', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('axe_name');
    const newcomer = await openPerson('A', { name: null });
    await newcomer.room.goto(`/chat/${room}/`);
    await expect(newcomer.room.nameInput).toBeFocused();
    await expectAxeClean(newcomer.page);
  });

  test('everything works with the keyboard alone, with a visible focus', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('keyboard');
    const bob = await openPerson('B', { name: 'Bob' });
    const keys = await openPerson('A', { name: null });
    const { page } = keys;

    await keys.lobby.goto();
    await expect(keys.lobby.displayName).toBeFocused();
    await page.keyboard.type('Kim');
    await page.keyboard.press('Tab');
    await expect(keys.lobby.roomName).toBeFocused();
    await page.keyboard.type(room);
    await page.keyboard.press('Enter');
    await keys.room.expectJoined(room);

    await expect(keys.room.messageInput).toBeFocused();
    // The box around the message field shows its focus.
    await expect(keys.room.messageInput.locator('xpath=..')).toHaveCSS('outline-style', 'solid');
    await page.keyboard.type('typed, not clicked');
    await page.keyboard.press('Enter');
    await keys.room.expectMessage('typed, not clicked');

    // Shift+Enter starts a new line instead of sending.
    await page.keyboard.type('two');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('lines');
    await expect(keys.room.messageInput).toHaveValue('two\nlines');
    await page.keyboard.press('Enter');
    await expect(keys.room.messageTexts.last()).toHaveText('two\nlines', { useInnerText: true });

    // Just before the message box: each message's actions, one stop each (the toolbar shows on
    // focus; a phone has a menu button for it instead). A message has them once it is in the log.
    await keys.room.expectState('two\nlines', 'delivered');
    for (const message of [keys.room.messages.last(), keys.room.messages.first()]) {
      await page.keyboard.press('Shift+Tab');
      await expect(message.locator(':focus')).toBeVisible();
      if (await message.getByTestId('message-menu').isHidden())
        await expect(message.getByRole('toolbar')).toHaveCSS('opacity', '1');
    }
    // ...then the time of the last group of messages, whose exact time shows on focus, and
    // before that the log itself, which scrolls with the arrow keys.
    await page.keyboard.press('Shift+Tab');
    const time = keys.room.groups.last().locator('time').first();
    await expect(time).toBeFocused();
    const tooltip = await time.evaluate((el) => getComputedStyle(el, '::after').content);
    expect(tooltip).toContain(String(new Date().getFullYear()));
    await page.keyboard.press('Shift+Tab');
    await expect(keys.room.log).toBeFocused();

    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await expect(keys.room.members).toHaveText(['Kim (you)', 'Bob']);
  });

  test('new messages are announced to screen readers; the history shown on entry is not', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('announce');
    const alice = await openPerson('A', { name: 'Alice' });
    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await bob.room.send('old news');

    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await alice.room.expectMessage('old news');
    await expect(alice.room.announcer).toHaveText('');
    await expect(alice.room.log).toHaveAttribute('aria-live', 'off');
    await expect(alice.room.announcer).toHaveAttribute('aria-live', 'polite');

    await bob.room.send('fresh news');
    await expect(alice.room.announcer).toHaveText('Bob: fresh news');
    // Your own messages are not read back to you.
    await alice.room.send('my reply');
    await bob.room.expectMessage('my reply');
    await expect(alice.room.announcer).toHaveText('Bob: fresh news');
  });
});
