import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test, type Person } from './fixtures.ts';
import { escapeRegExp } from './pages/room-page.ts';

// Invite-only rooms in the web app: the owner turns invite-only on and makes an invite link in the
// room settings (moderators from the header's tools menu), someone without a link is told the room
// is invite-only, and someone who opens the link comes in and chats. The moderation log lists what
// the owner did. People in separate browsers (on two server instances in the redis project).

/** Opens the member list where it is a closed sheet (a phone). */
async function showMembers(person: Person): Promise<void> {
  if ((await person.room.membersToggle.getAttribute('aria-expanded')) === 'false')
    await person.room.membersToggle.click();
  await expect(person.room.memberList).toBeVisible();
}

/** Picks an action from a person's menu in the member list and confirms it in its dialog. */
async function moderate(person: Person, name: string, action: string, reason?: string): Promise<void> {
  await showMembers(person);
  await person.room.members
    .filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\b`) })
    .getByRole('button', { name: `Moderate ${name}` })
    .click();
  await person.page
    .getByRole('menu', { name: `Moderate ${name}` })
    .getByRole('menuitem', { name: action })
    .click();
  const dialog = person.page.getByTestId('moderation-dialog');
  if (reason !== undefined) await dialog.getByLabel(/^Reason/).fill(reason);
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await expect(dialog).toBeHidden();
}

/** Counts the room sockets a page opens (a reconnect loop would open more and more). */
function countSockets(person: Person, room: string): () => number {
  let count = 0;
  person.page.on('websocket', (socket) => {
    if (socket.url().includes(`/ws/chat/${room}/`)) count += 1;
  });
  return () => count;
}

test.describe('invite links', () => {
  test('the owner makes the room invite-only and shares a link: without it the room says so, with it people come in', async ({
    openPerson,
    uniqueRoom,
    serverA,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('invites');
    const olga = await openPerson('A', { name: 'Olga' });
    await olga.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serverA });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    // The first to post owns the room.
    await olga.room.send('Welcome, invited guests');

    // Invite-only, in the room settings.
    await olga.room.makeInviteOnly();
    await expect(olga.room.log.getByTestId('settings-line').last()).toContainText('Olga made the room invite-only');

    // A link for a week, made in the same dialog: the server's link, when it expires, and Copy.
    const dialog = await olga.room.openSettings();
    await expect(dialog.getByRole('checkbox', { name: 'Invite-only' })).toBeChecked();
    const invite = dialog.getByTestId('invite-link');
    await expect(invite.getByRole('radio')).toHaveCount(4);
    await expect(invite.getByRole('radio', { name: '1 day' })).toBeChecked();
    await invite.getByRole('radio', { name: '7 days' }).check();
    await invite.getByRole('button', { name: 'Create link' }).click();
    const field = invite.getByRole('textbox', { name: 'Link to share' });
    await expect(field).toHaveValue(new RegExp(`^${escapeRegExp(serverA)}/chat/${room}/\\?invite=.+`));
    await expect(field).toHaveAttribute('readonly', '');
    const url = await field.inputValue();
    await expect(invite.getByTestId('invite-expiry')).toHaveText(/^\s*Expires in 7 days \(.+\)\.\s*$/);
    await invite.getByRole('button', { name: 'Copy' }).click();
    await expect(invite.getByTestId('invite-copied')).toHaveText('Copied');
    await expect(invite.getByTestId('announcer')).toContainText('Invite link copied.');
    expect(await olga.page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await expectAxeClean(olga.page);
    await expectNoHorizontalScroll(olga.page);
    // Enter in the link's field does not save the form (nor close the dialog).
    await field.press('Enter');
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();

    // Without the link: the room says it is invite-only, and does not keep trying.
    const carl = await openPerson('B', { name: 'Carl' });
    const carlSockets = countSockets(carl, room);
    await carl.room.goto(`/chat/${room}/`);
    const screen = carl.page.getByTestId('removed');
    await expect(screen).toHaveAttribute('data-kind', 'invite_required');
    await expect(screen.getByRole('heading')).toHaveText('This room is invite-only');
    await expect(screen.getByRole('heading')).toBeFocused();
    await expect(screen).toContainText(`you need an invite link from the owner of ${room} or one of its moderators`);
    await expect(screen.getByRole('link', { name: 'Go to the lobby' })).toBeVisible();
    await carl.room.expectStatus('closed');
    await expect(carl.room.messageInput).toHaveCount(0);
    await expect(carl.room.messages).toHaveCount(0);
    await expectAxeClean(carl.page);
    await expectNoHorizontalScroll(carl.page);
    await carl.page.waitForTimeout(2_000);
    expect(carlSockets()).toBe(1);
    await carl.room.expectStatus('closed');
    // A link that is not a valid invite: the same screen, saying the link does not work.
    await carl.room.goto(`/chat/${room}/?invite=1767225600000.forged`);
    await expect(screen).toHaveAttribute('data-kind', 'invite_required');
    await expect(screen).toContainText('The invite link you opened does not work');
    await screen.getByRole('link', { name: 'Go to the lobby' }).click();
    await expect(carl.lobby.question).toBeVisible();

    // With the link (opened on the other instance in the redis project): in, and chatting.
    const dana = await openPerson('B', { name: 'Dana' });
    const link = new URL(url);
    await dana.room.goto(`${link.pathname}${link.search}`);
    await dana.room.expectJoined(room);
    await dana.room.expectMessage('Welcome, invited guests');
    await dana.room.send('Thanks for the link');
    await olga.room.expectMessage('Thanks for the link');
    await olga.room.send('Glad you could come');
    await dana.room.expectMessage('Glad you could come');

    // Removed by the owner; let in once with the invite, she may come back without it.
    await moderate(olga, 'Dana', 'Remove from the room', 'testing the log');
    await expect(dana.page.getByTestId('removed')).toHaveAttribute('data-kind', 'kicked');
    await dana.room.goto(`/chat/${room}/`);
    await dana.room.expectJoined(room);

    // The moderation log lists both, newest first, and is a dialog like the others.
    const log = await olga.room.openTool('Moderation log');
    await expect(log.getByTestId('moderation-log-item')).toHaveText([
      /^\s*Olga\b.* removed Dana\b.* \(testing the log\)/,
      /^\s*Olga\b.* made the room invite-only/,
    ]);
    await expect(log.getByRole('list', { name: 'Moderation log' }).getByRole('listitem')).toHaveCount(2);
    await expectAxeClean(olga.page);
    await expectNoHorizontalScroll(olga.page);
    await olga.page.keyboard.press('Escape');
    await expect(log).toBeHidden();
    await expect(await olga.room.toolButton('Moderation log')).toBeFocused();
  });

  test('a moderator makes links from the header’s tools; a member has none; a refusal shows in the dialog', async ({
    openPerson,
    uniqueRoom,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('invites_mod');
    const olga = await openPerson('A', { name: 'Olga' });
    const bob = await openPerson('B', { name: 'Bob' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    await olga.room.send('My room');
    await bob.room.expectMessage('My room');

    // Nothing in the log yet.
    const log = await olga.room.openTool('Moderation log');
    await expect(log.getByTestId('moderation-log-empty')).toHaveText('Nothing yet.');
    await log.getByRole('button', { name: 'Close' }).click();
    await expect(log).toBeHidden();

    // A member has no tools; a moderator has them.
    expect(await bob.room.headerTools()).toEqual([]);
    await moderate(olga, 'Bob', 'Make moderator');
    await expect.poll(() => bob.room.headerTools()).toEqual(['Invite people', 'Moderation log']);

    // The menu is a menu: the keyboard moves in it, Escape closes it and gives the focus back.
    const tools = await bob.room.toolButton('Invite people');
    const menu = await bob.room.openToolsMenu();
    await expect(menu.getByRole('menuitem')).toHaveText(['Invite people', 'Moderation log']);
    await expect(menu.getByRole('menuitem', { name: 'Invite people' })).toBeFocused();
    await bob.page.keyboard.press('ArrowDown');
    await expect(menu.getByRole('menuitem', { name: 'Moderation log' })).toBeFocused();
    await bob.page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(tools).toBeFocused();

    // His link, valid for a day unless he picks otherwise.
    const dialog = await bob.room.openTool('Invite people');
    const create = dialog.getByRole('button', { name: 'Create link' });
    await expect(create).toBeFocused();
    await create.click();
    await expect(dialog.getByRole('textbox', { name: 'Link to share' })).toHaveValue(
      new RegExp(`/chat/${room}/\\?invite=.+`),
    );
    await expect(dialog.getByTestId('invite-expiry')).toHaveText(/^\s*Expires in 1 day \(.+\)\.\s*$/);
    await expect(dialog.getByTestId('announcer')).toContainText('Invite link created.');
    await expectAxeClean(bob.page);

    // No longer a moderator while the dialog is open (his page knows: the log says so): the
    // server refuses, and the dialog, still open, says so. Closed, his tools are gone.
    await moderate(olga, 'Bob', 'Remove moderator');
    await expect(bob.room.log.getByTestId('moderation-line').last()).toHaveAttribute('data-action', 'demote');
    await dialog.getByRole('button', { name: 'Create another link' }).click();
    await expect(dialog.getByTestId('invite-problem')).toHaveText(
      'Only the room’s owner and moderators can invite people.',
    );
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await expect(dialog).toBeHidden();
    expect(await bob.room.headerTools()).toEqual([]);
  });
});
