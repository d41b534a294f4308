import { expect, test } from './fixtures.ts';
import { openGuests } from './guests.ts';

test.describe('presence', () => {
  test('the member list and join/leave lines follow people coming and going', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('members');
    const alice = await openPerson('A');
    const bob = await openPerson('B');

    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await expect(alice.room.members).toHaveText(['Alice (you)']);

    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await expect(alice.room.members).toHaveText(['Alice (you)', 'Bob']);
    await expect(bob.room.members).toHaveText(['Bob (you)', 'Alice']);
    await expect(alice.room.presence.last()).toContainText('Bob joined');
    // Nobody hears about their own arrival.
    await expect(bob.room.presence).toHaveCount(0);

    await bob.room.lobbyLink.click();
    await expect(alice.room.members).toHaveText(['Alice (you)']);
    // Joins and leaves with no message between them are one line.
    await expect(alice.room.presence).toHaveCount(1);
    await expect(alice.room.presence.last()).toContainText('Bob joined and left');

    // A message ends the line; the next arrival starts another.
    await alice.room.send('anyone?');
    await bob.lobby.enterRoom(room);
    await bob.room.expectJoined(room);
    await expect(alice.room.presence).toHaveCount(2);
    await expect(alice.room.presence.last()).toContainText('Bob joined');
    await expect(alice.room.presence.last()).not.toContainText('left');
  });

  test('a crowd arriving and leaving at once is one line that names a few people and counts the rest', async ({
    openPerson,
    uniqueRoom,
    browser,
    serverA,
  }) => {
    const room = uniqueRoom('crowd');
    const alice = await openPerson('A');
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);

    // Twelve guests connect straight over the protocol, one after the other.
    const context = await browser.newContext({ baseURL: serverA });
    const page = await context.newPage();
    await page.goto('/healthz');
    await page.evaluate(openGuests, { room, count: 12 });
    await expect(alice.room.members).toHaveCount(13);
    await expect(alice.room.presence).toHaveCount(1);
    await expect(alice.room.presence).toContainText('Guest 1, Guest 2, Guest 3 and 9 others joined');

    await context.close();
    await expect(alice.room.members).toHaveCount(1);
    await expect(alice.room.presence).toHaveCount(1);
    await expect(alice.room.presence).toContainText('Guest 1, Guest 2, Guest 3 and 9 others joined and left');
  });

  test('a flood of joins and leaves stays one line, and the page keeps up', async ({ roomPage, page, uniqueRoom }) => {
    const room = uniqueRoom('flood');
    // The frames come from the route, as fast as it can send them, as from a server under attack.
    const route = await roomPage.gotoThroughRoute(room);
    await roomPage.send('before the flood');
    await roomPage.expectMessage('before the flood');
    // Each change of the page's DOM made in one go counts as one render.
    await page.evaluate(() => {
      const w = window as unknown as { renders: number };
      w.renders = 0;
      new MutationObserver(() => (w.renders += 1)).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });

    const bots = 1_500;
    const user = (i: number) => ({ id: `u_bot${i}`, name: `Bot ${i}` });
    for (let i = 0; i < bots; i++) route.send(JSON.stringify({ type: 'join', user: user(i), ts: Date.now() }));
    for (let i = 0; i < bots; i++) route.send(JSON.stringify({ type: 'leave', user: user(i), ts: Date.now() }));
    await expect(roomPage.presence).toContainText(`Bot 0, Bot 1, Bot 2 and ${bots - 3} others joined and left`);
    await expect(roomPage.presence).toHaveCount(1);
    await expect(roomPage.members).toHaveCount(1);

    await roomPage.send('after the flood');
    await roomPage.expectMessage('after the flood');
    await expect(roomPage.messageTexts).toHaveText(['before the flood', 'after the flood']);
    // Applied one by one, 3,000 frames were 3,000 renders (and 30 s behind); in batches, one per
    // animation frame, they are a few dozen.
    const renders = await page.evaluate(() => (window as unknown as { renders: number }).renders);
    expect(renders).toBeLessThan(300);
  });

  test('a room of 2,000 people: the list holds only the rows in view, scrolls to anyone, and a search finds them', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('thousands');
    const route = await roomPage.gotoThroughRoute(room);
    const people = 2_000;
    for (let i = 0; i < people; i++)
      route.send(JSON.stringify({ type: 'join', user: { id: `u_guest${i}`, name: `Guest ${i}` }, ts: Date.now() }));
    await expect(roomPage.membersToggle).toHaveText(/2,001/);
    if (!(await roomPage.memberList.isVisible())) await roomPage.membersToggle.click();
    await expect(roomPage.memberList).toBeVisible();

    // A few dozen rows in the page, not 2,001; each says where it stands in the whole list.
    const rendered = await roomPage.members.count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(100);
    await expect(roomPage.members.first()).toHaveAttribute('aria-setsize', String(people + 1));
    await expect(roomPage.members.first()).toContainText('(you)');

    // The scroll bar covers everyone: at the bottom, the last by name (numbers by value) is there.
    await roomPage.memberList.evaluate((list) => {
      const scroller = list.parentElement!;
      scroller.scrollTop = scroller.scrollHeight;
    });
    await expect(roomPage.members.last()).toHaveText('Guest 1999');
    await expect(roomPage.members.last()).toHaveAttribute('aria-posinset', String(people + 1));
    expect(await roomPage.members.count()).toBeLessThan(100);

    const search = page.getByRole('searchbox', { name: 'Find someone in this room' });
    await search.fill('guest 1234');
    await expect(roomPage.members).toHaveText(['Guest 1234']);
    await search.fill('guest 123');
    await expect(roomPage.members).toHaveText([
      'Guest 123',
      'Guest 1230',
      'Guest 1231',
      'Guest 1232',
      'Guest 1233',
      'Guest 1234',
      'Guest 1235',
      'Guest 1236',
      'Guest 1237',
      'Guest 1238',
      'Guest 1239',
    ]);
    await search.fill('nobody at all');
    await expect(roomPage.members).toHaveCount(0);
    await expect(page.getByText('No one listed here matches “nobody at all”.')).toBeVisible();
    await search.fill('');
    await expect(roomPage.members.first()).toContainText('(you)');
  });

  test('"is typing…" appears while someone types and clears when they stop or send', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('typing');
    const { alice, bob } = await openPair(room);

    await bob.room.messageInput.pressSequentially('hel');
    await expect(alice.room.typing).toHaveText('Bob is typing…');
    await expect(bob.room.typing).toHaveText('');
    // Typing notices are shown for a few seconds after the last one.
    await expect(alice.room.typing).toHaveText('', { timeout: 10_000 });

    await bob.room.messageInput.pressSequentially('lo');
    await expect(alice.room.typing).toHaveText('Bob is typing…');
    await bob.room.messageInput.press('Enter');
    await alice.room.expectMessage('hello');
    await expect(alice.room.typing).toHaveText('');
  });

  test('a reload keeps the same person: one entry in the list, earlier messages still theirs', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('identity');
    const { alice, bob } = await openPair(room);
    await alice.room.send('before the reload');
    await bob.room.expectMessage('before the reload');
    const token = await alice.page.evaluate(() => localStorage.getItem('parley.token'));
    expect(token).not.toBeNull();
    const socketUrls: string[] = [];
    alice.page.on('websocket', (ws) => socketUrls.push(ws.url()));

    await alice.page.reload();
    await alice.room.expectJoined(room);
    // The same identity, though the token is not in the socket's URL (it goes as a subprotocol);
    // the server hands out a fresh token with a later expiry in every welcome.
    expect(socketUrls.length).toBeGreaterThan(0);
    for (const url of socketUrls) {
      expect(new URL(url).searchParams.has('token'), url).toBe(false);
      expect(url).not.toContain(token!);
    }
    expect(await alice.page.evaluate(() => localStorage.getItem('parley.token'))).toBeTruthy();
    await expect(alice.room.groupOf('before the reload')).toContainText('(you)');
    await expect(alice.room.members).toHaveText(['Alice (you)', 'Bob']);
    await alice.room.send('after the reload');
    await bob.room.expectMessage('after the reload');
    await expect(bob.room.members).toHaveText(['Bob (you)', 'Alice']);
    await expect(bob.room.groupOf('after the reload')).toHaveAttribute('data-author', 'Alice');
  });
});
