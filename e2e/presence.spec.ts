import { expect, test } from './fixtures.ts';

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
    await expect(alice.room.presence.last()).toContainText('Bob left');
  });

  test('"is typing…" appears while someone types and clears when they stop or send', async ({ openPair, uniqueRoom }) => {
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

  test('a reload keeps the same person: one entry in the list, earlier messages still theirs', async ({ openPair, uniqueRoom }) => {
    const room = uniqueRoom('identity');
    const { alice, bob } = await openPair(room);
    await alice.room.send('before the reload');
    await bob.room.expectMessage('before the reload');
    const token = await alice.page.evaluate(() => localStorage.getItem('parley.token'));
    expect(token).not.toBeNull();

    await alice.page.reload();
    await alice.room.expectJoined(room);
    expect(await alice.page.evaluate(() => localStorage.getItem('parley.token'))).toBe(token);
    await expect(alice.room.groupOf('before the reload')).toContainText('(you)');
    await expect(alice.room.members).toHaveText(['Alice (you)', 'Bob']);
    await alice.room.send('after the reload');
    await bob.room.expectMessage('after the reload');
    await expect(bob.room.members).toHaveText(['Bob (you)', 'Alice']);
    await expect(bob.room.groupOf('after the reload')).toHaveAttribute('data-author', 'Alice');
  });
});
