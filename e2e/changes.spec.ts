import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test } from './fixtures.ts';

// Messages people can fix and answer: edits, deletions, reactions and replies between two people
// in two browsers (on two server instances in the redis project, on a phone in the phone one).
test.describe('changing messages', () => {
  test('an edit and a deletion reach the other person in place, and are read out to them', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('edit');
    const { alice, bob } = await openPair(room);
    await alice.room.send('Helo everyone');
    await alice.room.send('this was meant for another room');
    await bob.room.send('Hi Alice');
    await bob.room.expectMessage('this was meant for another room');
    await alice.room.expectMessage('Hi Alice');

    // Up in the empty message box edits Alice's last message; Escape gives up without a change.
    await alice.room.messageInput.press('ArrowUp');
    await expect(alice.room.composerMode).toContainText('Editing your message');
    await expect(alice.room.messageInput).toHaveValue('this was meant for another room');
    await alice.room.messageInput.press('Escape');
    await expect(alice.room.composerMode).toBeHidden();
    await expect(alice.room.messageInput).toHaveValue('');

    // The first message, from its actions.
    await alice.room.messageAction(alice.room.message('Helo everyone'), 'Edit');
    await expect(alice.room.messageInput).toHaveValue('Helo everyone');
    await expect(alice.room.messageInput).toBeFocused();
    await alice.room.messageInput.fill('Hello everyone');
    await alice.room.messageInput.press('Enter');
    await expect(alice.room.composerMode).toBeHidden();

    for (const person of [alice, bob]) {
      await person.room.expectMessage('Hello everyone');
      await expect(person.room.anyMessage('Helo everyone')).toHaveCount(0);
      // In its place: still the first of the three.
      await expect(person.room.messageTexts).toHaveText([
        'Hello everyone',
        'this was meant for another room',
        'Hi Alice',
      ]);
      const edited = person.room.message('Hello everyone').getByTestId('edited');
      await expect(edited).toContainText('(edited');
      await expect(edited).toHaveAttribute('title', /^Edited \w+/);
    }
    await expect(bob.room.announcer).toContainText('Alice edited a message: Hello everyone');

    // Deleting asks first; Cancel keeps the message.
    const wrong = alice.room.message('this was meant for another room');
    await alice.room.messageAction(wrong, 'Delete');
    await expect(wrong.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await wrong.getByRole('button', { name: 'Cancel' }).click();
    await alice.room.messageAction(wrong, 'Delete');
    await wrong.getByRole('button', { name: 'Yes, delete' }).click();

    for (const person of [alice, bob]) {
      await expect(person.room.anyMessage('this was meant for another room')).toHaveCount(0);
      await expect(person.room.tombstones).toHaveText(['This message was deleted']);
      // The tombstone keeps the message's place: three lines still, the middle one deleted.
      await expect(person.room.messages).toHaveCount(3);
      await expect(person.room.messages.nth(1)).toHaveAttribute('data-deleted', 'true');
    }
    await expect(bob.room.announcer).toContainText('Alice deleted a message');
    // Only your own messages can be edited or deleted.
    const bobsView = bob.room.message('Hello everyone');
    await bob.room.messageAction(bobsView, 'Reply');
    await expect(bobsView.getByRole('button', { name: 'Edit', exact: true })).toHaveCount(0);
    await expect(bobsView.getByRole('button', { name: 'Delete', exact: true })).toHaveCount(0);

    // A reload shows the same: the server keeps the latest state.
    await bob.page.reload();
    await bob.room.expectJoined(room);
    await expect(bob.room.messageTexts).toHaveText(['Hello everyone', 'Hi Alice']);
    await expect(bob.room.tombstones).toHaveCount(1);
  });

  test('reactions: chips with counts, yours pressed, who reacted named; a click toggles', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('react');
    const { alice, bob } = await openPair(room);
    await alice.room.send('Release is out');
    await bob.room.expectMessage('Release is out');

    await bob.room.react(bob.room.message('Release is out'), 'thumbs up');
    const aliceChip = alice.room.reaction(alice.room.message('Release is out'), '👍');
    const bobChip = bob.room.reaction(bob.room.message('Release is out'), '👍');
    await expect(aliceChip).toHaveText(/1/);
    await expect(aliceChip).toHaveAttribute('aria-pressed', 'false');
    await expect(aliceChip).toHaveAccessibleName('thumbs up: 1, Bob');
    await expect(aliceChip).toHaveAttribute('title', '👍 Bob');
    await expect(bobChip).toHaveAttribute('aria-pressed', 'true');

    // Alice joins in with a click on the chip; both see two, each pressed only where it is theirs.
    await aliceChip.click();
    await expect(aliceChip).toHaveAccessibleName('thumbs up: 2, Bob and you');
    await expect(aliceChip).toHaveAttribute('aria-pressed', 'true');
    await expect(bobChip).toHaveAccessibleName('thumbs up: 2, you and Alice');

    // The picker's search: "tada" finds the party popper, Enter picks it.
    await alice.room.messageAction(alice.room.message('Release is out'), 'React');
    await alice.room.emojiPicker.getByLabel('Search emoji').fill('tada');
    await alice.room.emojiPicker.getByLabel('Search emoji').press('Enter');
    await expect(alice.room.emojiPicker).toBeHidden();
    await expect(bob.room.reaction(bob.room.message('Release is out'), '🎉')).toHaveAccessibleName(
      'party popper: 1, Alice',
    );

    // Bob takes his back.
    await bobChip.click();
    await expect(aliceChip).toHaveAccessibleName('thumbs up: 1, you');
    await expect(bobChip).toHaveAttribute('aria-pressed', 'false');

    // Escape closes the picker without a reaction.
    await bob.room.messageAction(bob.room.message('Release is out'), 'React');
    await expect(bob.room.emojiPicker).toBeVisible();
    await bob.page.keyboard.press('Escape');
    await expect(bob.room.emojiPicker).toBeHidden();
    await expect(bob.room.message('Release is out').getByTestId('reaction')).toHaveCount(2);
  });

  test('a reply quotes its original, which a click shows; a deleted original is quoted as such', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('reply');
    const { alice, bob } = await openPair(room);
    await alice.room.send('Who can review the release notes?');
    await alice.room.send('And the screenshots, please');
    await bob.room.expectMessage('And the screenshots, please');

    await bob.room.messageAction(bob.room.message('Who can review the release notes?'), 'Reply');
    await expect(bob.room.composerMode).toContainText('Replying to Alice');
    await expect(bob.room.composerMode).toContainText('Who can review the release notes?');
    await expect(bob.room.messageInput).toBeFocused();
    // Escape gives up the reply; a reply again, then sent.
    await bob.room.messageInput.press('Escape');
    await expect(bob.room.composerMode).toBeHidden();
    await bob.room.messageAction(bob.room.message('Who can review the release notes?'), 'Reply');
    await bob.room.send('I can, after lunch');
    await expect(bob.room.composerMode).toBeHidden();

    await bob.room.messageAction(bob.room.message('And the screenshots, please'), 'Reply');
    await bob.room.send('Those too');

    for (const person of [alice, bob]) {
      const quote = person.room.message('I can, after lunch').getByTestId('reply-quote');
      await expect(quote).toHaveText(/Alice\s+Who can review the release notes\?/);
    }
    await expect(alice.room.announcer).toContainText('Bob, replying to Alice: I can, after lunch');

    // A click on the quote brings the original into view and focus.
    await alice.room.message('I can, after lunch').getByTestId('reply-quote').click();
    await expect(alice.room.message('Who can review the release notes?')).toBeFocused();
    await expect(alice.room.message('Who can review the release notes?')).toHaveClass(/flash/);

    // The original is deleted: the reply says so.
    await alice.room.messageAction(alice.room.message('And the screenshots, please'), 'Delete');
    await alice.page.getByRole('button', { name: 'Yes, delete' }).click();
    for (const person of [alice, bob])
      await expect(person.room.message('Those too').getByTestId('reply-quote')).toHaveText(/Alice\s+deleted message/);
    await bob.page.reload();
    await bob.room.expectJoined(room);
    await expect(bob.room.message('Those too').getByTestId('reply-quote')).toHaveText(/Alice\s+deleted message/);
    await expectNoHorizontalScroll(bob.page);
  });

  test('the original of a reply far back in the history is loaded page by page and shown', async ({
    openPerson,
    seedMessages,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('far');
    const alice = await openPerson('A', { name: 'Alice' });
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await alice.room.send('The plan, in one line');
    // More than two pages of the test servers' history (20 a page) come after it.
    await seedMessages(
      room,
      Array.from({ length: 45 }, (_, i) => `filler ${i + 1}`),
    );
    await alice.room.expectMessage('filler 45');
    await alice.room.messageAction(alice.room.message('The plan, in one line'), 'Reply');
    await alice.room.send('Remember this?');

    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await bob.room.expectMessage('Remember this?');
    await expect(bob.room.anyMessage('The plan, in one line')).toHaveCount(0);
    await bob.room.message('Remember this?').getByTestId('reply-quote').click();
    await expect(bob.room.message('The plan, in one line')).toBeFocused();
    await expect(bob.room.message('The plan, in one line')).toBeInViewport();
  });

  test('changes made while offline wait, then go out once; changes missed while away arrive on reconnect', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('offline');
    const { alice, bob } = await openPair(room);
    await alice.room.send('first draft');
    await alice.room.send('second thought');
    await bob.room.expectMessage('second thought');

    // Alice offline: her reaction waits, shown at once, then goes out after the welcome.
    await alice.context.setOffline(true);
    await expect(alice.room.reconnecting).toBeVisible();
    await alice.room.react(alice.room.message('second thought'), 'eyes');
    const chip = alice.room.reaction(alice.room.message('second thought'), '👀');
    await expect(chip).toHaveAttribute('aria-pressed', 'true');
    await expect(alice.room.message('second thought').getByTestId('change-state')).toHaveText(
      'Waiting for the connection…',
    );
    await alice.context.setOffline(false);
    await expect(alice.room.message('second thought').getByTestId('change-state')).toHaveCount(0);
    await expect(bob.room.reaction(bob.room.message('second thought'), '👀')).toHaveAccessibleName('eyes: 1, Alice');

    // Bob away while Alice edits and deletes: his reconnect asks for what followed, changes too.
    await bob.context.setOffline(true);
    await expect(bob.room.reconnecting).toBeVisible();
    await alice.room.messageAction(alice.room.message('first draft'), 'Edit');
    await alice.room.messageInput.fill('final draft');
    await alice.room.messageInput.press('Enter');
    await alice.room.expectMessage('final draft');
    await alice.room.messageAction(alice.room.message('second thought'), 'Delete');
    await alice.page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(alice.room.tombstones).toHaveCount(1);
    await bob.context.setOffline(false);
    await bob.room.expectStatus('connected');
    await bob.room.expectMessage('final draft');
    await expect(bob.room.tombstones).toHaveCount(1);
    await expect(bob.room.messages).toHaveCount(2);
  });

  test("a change the server refuses shows failed with the server's reason; Discard drops it", async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('refused');
    const { alice, bob } = await openPair(room);
    await bob.room.send('React to this');
    const message = alice.room.message('React to this');
    const id = await message.getAttribute('data-id');
    expect(id).not.toBeNull();
    // Someone else fills the message with as many distinct reactions as it may hold (20).
    const emoji = [...'😀😃😄😁😆😅🤣🙂🙃😉😊😇🥰😍🤩😘😋😛😜🤪'];
    await alice.page.evaluate(react, { room, id: id!, emoji });
    await expect(message.getByTestId('reaction')).toHaveCount(20);

    await alice.room.react(message, 'thumbs up');
    const state = message.getByTestId('change-state');
    await expect(state).toContainText(
      'Your reaction was not saved: This message has as many reactions as it can hold.',
    );
    await expect(alice.room.reaction(message, '👍')).toHaveCount(0);
    await state.getByRole('button', { name: 'Discard' }).click();
    await expect(state).toHaveCount(0);
    await expect(bob.room.message('React to this').getByTestId('reaction')).toHaveCount(20);
  });

  test('formatting: bold, italic, code, quotes and safe links render; markup and script links stay text', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('format');
    const { alice, bob } = await openPair(room);
    await alice.room.send('**ship it** *now*, run `pnpm build` first, see [the notes](https://example.com/notes)');
    await alice.room.send('> quoted line\n\nmy answer @Bob');
    await alice.room.send('[click me](javascript:alert(1)) <script>window.__pwned = true</script>');
    await bob.room.expectMessage('[click me](javascript:alert(1)) <script>window.__pwned = true</script>');

    const formatted = bob.room.message('ship it now, run pnpm build first, see the notes');
    await expect(formatted.locator('strong')).toHaveText('ship it');
    await expect(formatted.locator('em')).toHaveText('now');
    await expect(formatted.locator('code')).toHaveText('pnpm build');
    await expect(formatted.getByRole('link', { name: 'the notes' })).toHaveAttribute(
      'href',
      'https://example.com/notes',
    );
    const quoted = bob.room.messages.filter({ hasText: 'my answer' });
    await expect(quoted.locator('blockquote')).toHaveText('quoted line');
    await expect(quoted.locator('.mention')).toHaveText('@Bob');
    await expect(bob.room.log.locator('a[href^="javascript"], script')).toHaveCount(0);
    expect(await bob.page.evaluate(() => (window as { __pwned?: boolean }).__pwned)).toBeUndefined();
  });
});

test.describe('changing messages in the dark theme', () => {
  test('edited, deleted, reacted and replied messages, and the picker, pass axe', async ({ openPair, uniqueRoom }) => {
    const room = uniqueRoom('dark');
    const { alice, bob } = await openPair(room);
    await alice.page.emulateMedia({ colorScheme: 'dark' });
    await alice.room.send('Dark mode works');
    await alice.room.send('to be deleted');
    await bob.room.expectMessage('to be deleted');
    await bob.room.react(bob.room.message('Dark mode works'), 'red heart');
    await bob.room.messageAction(bob.room.message('Dark mode works'), 'Reply');
    await bob.room.send('It does!');
    await alice.room.messageAction(alice.room.message('Dark mode works'), 'Edit');
    await alice.room.messageInput.fill('Dark mode works well');
    await alice.room.messageInput.press('Enter');
    await alice.room.messageAction(alice.room.message('to be deleted'), 'Delete');
    await alice.page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(alice.room.tombstones).toHaveCount(1);
    await expect(alice.room.reaction(alice.room.message('Dark mode works well'), '❤️')).toBeVisible();
    await expect(alice.room.message('It does!').getByTestId('reply-quote')).toHaveText(/Dark mode works well/);
    expect(await alice.page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches)).toBe(true);

    // The picker and the reply bar open too, then axe in both themes (it switches them itself).
    await alice.room.messageAction(alice.room.message('It does!'), 'Reply');
    await expect(alice.room.composerMode).toBeVisible();
    await alice.room.messageAction(alice.room.message('It does!'), 'React');
    await expect(alice.room.emojiPicker).toBeVisible();
    await expectAxeClean(alice.page);
    await expectNoHorizontalScroll(alice.page);
  });
});

// Runs in the page: reacts to a message over the protocol as another person, ten reactions a
// socket (the per-connection message rate counts changes too), each acked before the next.
async function react({ room, id, emoji }: { room: string; id: string; emoji: string[] }): Promise<void> {
  const url = `ws://${location.host}/ws/chat/${encodeURIComponent(room)}/?name=Reactor`;
  for (let start = 0; start < emoji.length; start += 10) {
    const socket = new WebSocket(url, ['parley.v1']);
    const waiting = new Map<string, () => void>();
    const welcomed = new Promise<void>((resolve, reject) => {
      socket.onmessage = (event) => {
        const frame = JSON.parse(String(event.data)) as { type: string; clientMsgId?: string; message?: string };
        if (frame.type === 'welcome') resolve();
        if (frame.type === 'ack' && frame.clientMsgId !== undefined) waiting.get(frame.clientMsgId)?.();
        if (frame.type === 'error') reject(new Error(`refused: ${frame.message}`));
      };
      socket.onclose = () => reject(new Error('the socket closed'));
    });
    await welcomed;
    for (const [i, one] of emoji.slice(start, start + 10).entries()) {
      const clientMsgId = `react-${start + i}`;
      const acked = new Promise<void>((resolve) => waiting.set(clientMsgId, resolve));
      socket.send(JSON.stringify({ type: 'react', id, emoji: one, clientMsgId }));
      await acked;
    }
    socket.onclose = null;
    socket.close();
  }
}
