import { expect, test } from './fixtures.ts';

test.describe('chatting', () => {
  test('two people in one room see each other; a third in another room sees none of it', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('together');
    const elsewhere = uniqueRoom('elsewhere');
    const alice = await openPerson('A');
    const bob = await openPerson('B');
    const carol = await openPerson('A');

    // Carol is connected before anything is said, so silence in her room means isolation.
    await carol.lobby.goto();
    await carol.lobby.enterRoom(elsewhere);
    await carol.room.expectJoined(elsewhere);

    for (const person of [alice, bob]) {
      await person.lobby.goto();
      await person.lobby.enterRoom(room);
      await person.room.expectJoined(room);
      expect(person.room.decodedPath()).toBe(`/chat/${room}/`);
    }

    await alice.room.send('Hello from Alice');
    await bob.room.send('Hi Alice, Bob here');

    for (const person of [alice, bob]) {
      await person.room.expectMessage('Hello from Alice');
      await person.room.expectMessage('Hi Alice, Bob here');
      await expect(person.room.messages).toHaveCount(2);
    }

    // Proves Carol's socket works and that the earlier messages had every chance to arrive.
    await carol.room.send('Anyone here?');
    await carol.room.expectMessage('Anyone here?');
    await expect(carol.room.messageTexts).toHaveText(['Anyone here?']);
    await expect(alice.room.message('Anyone here?')).toHaveCount(0);
    await expect(bob.room.message('Anyone here?')).toHaveCount(0);
  });

  test('messages are shown as text, never as HTML', async ({ openPair, uniqueRoom }) => {
    const room = uniqueRoom('markup');
    const markup = '<b>bold</b> <img src=x onerror="window.__pwned = true"> & "quotes"';

    const { alice, bob } = await openPair(room);
    await alice.room.send(markup);

    await bob.room.expectMessage(markup);
    await expect(bob.room.log.locator('b, img')).toHaveCount(0);
    expect(await bob.page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined();
  });

  test('links in messages work, long words wrap, and a message shows its name and time', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('links');
    const alice = await openPerson('A', { name: 'Alice' });
    const bob = await openPerson('B', { name: 'Bob' });
    await alice.room.goto(`/chat/${room}/`);
    await bob.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await bob.room.expectJoined(room);

    await alice.room.send('Notes: https://example.com/notes?x=1. Ask me (or www.example.org)');
    const message = bob.room.message('Notes: https://example.com/notes?x=1. Ask me (or www.example.org)');
    await expect(message).toHaveCount(1);
    const links = message.getByRole('link');
    await expect(links).toHaveText(['https://example.com/notes?x=1', 'www.example.org']);
    await expect(links.first()).toHaveAttribute('href', 'https://example.com/notes?x=1');
    await expect(links.last()).toHaveAttribute('href', 'https://www.example.org/');
    await expect(links.first()).toHaveAttribute('rel', /noopener/);
    await expect(bob.room.groupOf('Notes: https://example.com/notes?x=1. Ask me (or www.example.org)')).toHaveAttribute(
      'data-author',
      'Alice',
    );

    const word = 'x'.repeat(400);
    await alice.room.send(word);
    const text = bob.room.message(word).getByTestId('message-text');
    await expect(text).toBeVisible();
    expect(await text.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    expect(await bob.room.log.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
  });

  test('your messages show sending, then sent', async ({ roomPage, page, uniqueRoom }) => {
    const room = uniqueRoom('states');
    // The message is held on its way to the server until the test lets it through.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      ws.onMessage(async (frame) => {
        if (String(frame).includes('"held back"')) await released;
        server.send(frame);
      });
    });
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.send('held back');
    await roomPage.expectState('held back', 'sending');
    await expect(roomPage.anyMessage('held back')).toContainText('Sending…');
    release();
    await roomPage.expectState('held back', 'delivered');
    await expect(roomPage.anyMessage('held back').getByText('Sent')).toBeAttached();
  });

  test('the Send button sends too, and the message box is focused and cleared', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('button');
    const alice = await openPerson('A');

    await alice.lobby.goto();
    await expect(alice.lobby.roomName).toBeFocused();
    await alice.lobby.enterRoom(room, 'button');
    await alice.room.expectJoined(room);
    await expect(alice.room.messageInput).toBeFocused();

    await alice.room.messageInput.fill('sent with the button');
    await alice.room.sendButton.click();
    await alice.room.expectMessage('sent with the button');
    await expect(alice.room.messageInput).toHaveValue('');
    await expect(alice.room.messageInput).toBeFocused();
  });

  test('an empty message is refused inline, without a round trip', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('empty');
    const alice = await openPerson('A');

    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await alice.room.messageInput.fill('   ');
    await alice.room.messageInput.press('Enter');
    await expect(alice.page.getByRole('alert')).toHaveText('Message is empty.');
    await expect(alice.room.messages).toHaveCount(0);
  });

  test('the message box grows with its lines and counts down near the limit', async ({ roomPage, uniqueRoom }) => {
    const room = uniqueRoom('composer');
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    const input = roomPage.messageInput;
    const height = async () => (await input.boundingBox())?.height ?? 0;
    await input.fill('one line');
    const oneLine = await height();

    await input.fill('one\ntwo\nthree\nfour');
    await expect.poll(height).toBeGreaterThan(oneLine * 2);
    await expect(roomPage.budget).toHaveCount(0);

    // The count is of UTF-8 bytes, as the server's limit is; it shows from 80 % of it.
    await input.fill('x'.repeat(4_000));
    await expect(roomPage.budget).toContainText('96 left');
    await input.fill('한'.repeat(1_400));
    await expect(roomPage.budget).toContainText('104 over the limit');

    await input.fill('short again');
    await expect(roomPage.budget).toHaveCount(0);
    await input.press('Enter');
    await roomPage.expectMessage('short again');
    await input.fill('one line');
    await expect.poll(height).toBe(oneLine);
  });
});
