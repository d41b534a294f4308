import { expect, test } from './fixtures.ts';
import { HISTORY_PAGE_SIZE } from './test-servers.ts';

test.describe('history', () => {
  test('a late joiner sees the earlier messages with names, times and grouping', async ({
    openPair,
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('late');
    const { alice, bob } = await openPair(room);

    await alice.room.send('first from Alice');
    await alice.room.send('second from Alice');
    await bob.room.expectMessage('second from Alice');
    await bob.room.send('one from Bob');
    await alice.room.expectMessage('one from Bob');
    await alice.room.send('third from Alice');
    await bob.room.expectMessage('third from Alice');

    const carol = await openPerson('B');
    await carol.room.goto(`/chat/${room}/`);
    await carol.room.expectJoined(room);
    await expect(carol.room.messageTexts).toHaveText([
      'first from Alice',
      'second from Alice',
      'one from Bob',
      'third from Alice',
    ]);
    // Consecutive messages by one person share one name heading.
    await expect(carol.room.groups).toHaveCount(3);
    await expect(carol.room.groups.nth(0)).toHaveAttribute('data-author', 'Alice');
    await expect(carol.room.groups.nth(0).getByTestId('message')).toHaveCount(2);
    await expect(carol.room.groups.nth(1)).toHaveAttribute('data-author', 'Bob');
    // The time is relative, with the exact one in the title and the datetime attribute.
    const time = carol.room.groups.nth(0).locator('time').first();
    await expect(time).toHaveText(/just now|minutes? ago/);
    await expect(time).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await expect(time).toHaveAttribute('title', /\d{4}/);
    // Only the reader's own messages are marked as theirs.
    await expect(alice.room.groupOf('first from Alice')).toContainText('(you)');
    await expect(carol.room.groupOf('first from Alice')).not.toContainText('(you)');
  });

  test('message times say how long ago, and move on by themselves', async ({ roomPage, page, uniqueRoom }) => {
    const room = uniqueRoom('clock');
    // The page's clock runs as usual, but the test can move it on.
    await page.clock.install();
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.send('what time is it?');
    const time = roomPage.groupOf('what time is it?').locator('time').first();
    await expect(time).toHaveText('just now');
    await page.clock.fastForward('02:00');
    await expect(time).toHaveText('2 minutes ago');
  });

  test('scrolling back loads older pages and keeps the reading place', async ({
    openPerson,
    uniqueRoom,
    seedMessages,
  }) => {
    const room = uniqueRoom('scrollback');
    const total = HISTORY_PAGE_SIZE * 2 + 5;
    const texts = Array.from({ length: total }, (_, i) => `message ${i + 1}`);
    await seedMessages(room, texts);

    const alice = await openPerson('A');
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    // The welcome holds the latest page, shown from the bottom.
    await expect(alice.room.messages).toHaveCount(HISTORY_PAGE_SIZE);
    await expect(alice.room.message(`message ${total}`)).toBeInViewport();
    const firstShown = alice.room.message(`message ${total - HISTORY_PAGE_SIZE + 1}`);

    // Scrolling to the top fetches the page before; what was at the top stays in view.
    await alice.room.log.evaluate((log) => log.scrollTo({ top: 0 }));
    await expect(alice.room.messages).toHaveCount(HISTORY_PAGE_SIZE * 2);
    await expect(firstShown).toBeInViewport();
    expect(await alice.room.log.evaluate((log) => log.scrollTop)).toBeGreaterThan(0);

    // The button does the same for keyboard users, until the beginning.
    await alice.room.loadOlder.focus();
    await alice.page.keyboard.press('Enter');
    await expect(alice.room.messages).toHaveCount(total);
    await expect(alice.room.messageTexts.first()).toHaveText('message 1');
    await expect(alice.room.loadOlder).toHaveCount(0);
    await expect(alice.room.log.getByText("This is the beginning of the room's history.")).toBeVisible();
    // Each message once, in order.
    await expect(alice.room.messageTexts).toHaveText(texts);
  });

  test('coming back to a room shows what is new since the last visit', async ({ openPair, uniqueRoom }) => {
    const room = uniqueRoom('divider');
    const { alice, bob } = await openPair(room);
    await bob.room.send('seen by Alice');
    await alice.room.expectMessage('seen by Alice');

    await alice.room.lobbyLink.click();
    await bob.room.send('new one');
    await bob.room.send('another new one');

    await alice.lobby.enterRoom(room);
    await alice.room.expectJoined(room);
    await expect(alice.room.divider).toHaveText('New since your last visit');
    // The divider sits right before the first message Alice has not seen.
    await expect(alice.room.divider.locator('xpath=following-sibling::li[1]')).toContainText('new one');
    await expect(alice.room.divider.locator('xpath=preceding-sibling::li[1]')).toContainText('seen by Alice');

    // Having seen them, the next visit has no divider.
    await alice.room.lobbyLink.click();
    await alice.lobby.enterRoom(room);
    await alice.room.expectJoined(room);
    await expect(alice.room.messageTexts).toHaveText(['seen by Alice', 'new one', 'another new one']);
    await expect(alice.room.divider).toHaveCount(0);
  });

  test('a long session in a busy room: the page shows the newest 200 at the bottom, more when scrolled back, of a bounded log', async ({
    roomPage,
    uniqueRoom,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('long');
    const route = await roomPage.gotoThroughRoute(room);
    // 1,600 messages from the route (ids in order), as a busy room's afternoon.
    const user = { id: 'u_chatty', name: 'Chatty' };
    const total = 1_600;
    for (let i = 0; i < total; i++)
      route.send(JSON.stringify({ type: 'message', id: `${i + 1}-0`, room, user, text: `m ${i}`, ts: Date.now() }));
    await expect(roomPage.messageTexts.last()).toHaveText(`m ${total - 1}`);
    // At the bottom the page shows only the newest 200 entries (log-window.ts).
    await expect.poll(() => roomPage.messages.count()).toBeLessThanOrEqual(200);
    expect(await roomPage.messages.count()).toBeGreaterThanOrEqual(150);
    // Scrolled to the top, more of the held log goes in (100 at a time), the reader's place kept.
    const topShown = roomPage.messageTexts.first();
    const topText = await topShown.innerText();
    await roomPage.log.evaluate((log) => log.scrollTo({ top: 0 }));
    await expect.poll(() => roomPage.messages.count()).toBeGreaterThan(200);
    await expect(roomPage.message(topText)).toBeInViewport();
    // All of it, by the button: past 1,500 entries the oldest were forgotten, down to 1,000
    // (scrolling back would load them again from the server, which has none of these).
    await roomPage.showAllHeld();
    const held = await roomPage.messages.count();
    expect(held).toBeLessThanOrEqual(1_500);
    expect(held).toBeGreaterThanOrEqual(1_000);
    await expect(roomPage.messageTexts.first()).not.toHaveText('m 0');
  });

  test('the log follows new messages at the bottom; scrolled up, a button says how many are new', async ({
    openPair,
    uniqueRoom,
    seedMessages,
  }) => {
    const room = uniqueRoom('follow');
    await seedMessages(
      room,
      Array.from({ length: HISTORY_PAGE_SIZE }, (_, i) => `old ${i + 1}`),
    );
    const { alice, bob } = await openPair(room);

    await bob.room.send('while Alice is at the bottom');
    await expect(alice.room.message('while Alice is at the bottom')).toBeInViewport();
    await expect(alice.room.jumpToNew).toHaveCount(0);

    await alice.room.log.evaluate((log) => log.scrollTo({ top: 0 }));
    await expect(alice.room.message('old 1')).toBeInViewport();
    await bob.room.send('while Alice reads old ones');
    await bob.room.send('and another');
    await expect(alice.room.jumpToNew).toHaveText(/2 new messages/);
    await expect(alice.room.message('and another')).not.toBeInViewport();
    await expect(alice.room.message('old 1')).toBeInViewport();

    await alice.room.jumpToNew.click();
    await expect(alice.room.message('and another')).toBeInViewport();
    await expect(alice.room.jumpToNew).toHaveCount(0);
  });
});
