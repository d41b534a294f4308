import { expect, test, type ParleyFixtures } from './fixtures.ts';
import { startOwnServer } from './own-server.ts';

// An invite-only room that has let in as many people as it keeps (ROOM_ADMITTED_MAX): a newcomer
// with a valid invite gets the "This room is full" screen, while the owner and whoever was let in
// already still come in. The project's servers share one configuration, so this spec starts a
// server of its own (on the project's engine) that lets one person in per room.

type OpenPerson = ParleyFixtures['openPerson'];

test.describe('a full invite-only room', () => {
  test('past ROOM_ADMITTED_MAX a newcomer with a valid invite sees "This room is full"; the owner and those let in still come in', async ({
    openPerson,
    uniqueRoom,
    redisUrl,
  }, testInfo) => {
    test.setTimeout(60_000);
    // In the redis project on the project's test Redis: the count of those let in is a script there.
    const server = await startOwnServer({ REDIS_URL: redisUrl, ROOM_ADMITTED_MAX: '1' });
    try {
      await fullRoom(server.origin, openPerson, uniqueRoom('full'));
    } catch (err) {
      await testInfo.attach('room-full server output', { body: server.output() });
      throw err;
    } finally {
      await server.stop();
    }
  });
});

/** The owner makes the room invite-only and a link; one guest gets in with it, the next finds it full. */
async function fullRoom(origin: string, openPerson: OpenPerson, room: string): Promise<void> {
  const olga = await openPerson(origin, { name: 'Olga' });
  await olga.room.goto(`/chat/${room}/`);
  await olga.room.expectJoined(room);
  // The first to post owns the room.
  await olga.room.send('Only one guest fits');

  // Invite-only, and a link.
  await olga.room.makeInviteOnly();
  await expect(olga.room.log.getByTestId('settings-line').last()).toContainText('Olga made the room invite-only');
  const dialog = await olga.room.openSettings();
  const invite = dialog.getByTestId('invite-link');
  await invite.getByRole('button', { name: 'Create link' }).click();
  const field = invite.getByRole('textbox', { name: 'Link to share' });
  await expect(field).toHaveValue(/\?invite=.+/);
  const link = new URL(await field.inputValue());
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();

  // The first guest with the link comes in: the room has let in one person, its most.
  const bruno = await openPerson(origin, { name: 'Bruno' });
  await bruno.room.goto(`${link.pathname}${link.search}`);
  await bruno.room.expectJoined(room);
  await bruno.room.expectMessage('Only one guest fits');

  // The next one, with the same valid link: the room is full, and there is no message box.
  const chiara = await openPerson(origin, { name: 'Chiara' });
  await chiara.room.goto(`${link.pathname}${link.search}`);
  const screen = chiara.page.getByTestId('removed');
  await expect(screen).toHaveAttribute('data-kind', 'room_full');
  await expect(screen.getByRole('heading')).toHaveText('This room is full');
  await expect(screen.getByRole('heading')).toBeVisible();
  await expect(screen).toContainText(`${room} is invite-only and has let in as many people as it can`);
  await expect(screen.getByRole('link', { name: 'Go to the lobby' })).toBeVisible();
  await chiara.room.expectStatus('closed');
  await expect(chiara.room.messageInput).toHaveCount(0);
  await expect(chiara.room.messages).toHaveCount(0);

  // The owner, after a reload, and the guest let in already, without the link, still come in.
  await olga.page.reload();
  await olga.room.expectJoined(room);
  await olga.room.expectMessage('Only one guest fits');
  await bruno.room.goto(`/chat/${room}/`);
  await bruno.room.expectJoined(room);
  await bruno.room.send('Still here');
  await olga.room.expectMessage('Still here');
}
