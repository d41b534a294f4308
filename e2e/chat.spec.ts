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
    await expect(carol.room.messages).toHaveText(['Anyone here?']);
    await expect(alice.room.message('Anyone here?')).toHaveCount(0);
    await expect(bob.room.message('Anyone here?')).toHaveCount(0);
  });

  test('messages are shown as text, never as HTML', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('markup');
    const alice = await openPerson('A');
    const bob = await openPerson('B');
    const markup = '<b>bold</b> <img src=x onerror="window.__pwned = true"> & "quotes"';

    await alice.room.goto(`/chat/${room}/`);
    await bob.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await bob.room.expectJoined(room);
    await alice.room.send(markup);

    await bob.room.expectMessage(markup);
    await expect(bob.room.log.locator('b, img')).toHaveCount(0);
    expect(await bob.page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined();
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
});
