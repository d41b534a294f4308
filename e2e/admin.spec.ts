import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test } from './fixtures.ts';
import { escapeRegExp } from './pages/room-page.ts';
import { E2E_ADMIN_TOKEN } from './test-servers.ts';

// The operator's /admin page: signing in with ADMIN_TOKEN (a wrong token is refused), every
// room with its people and messages, and an instance-wide ban that removes a person from the
// room they are in (on the other instance in the redis project) until the operator lifts it; and
// the webhooks, with a bot's webhook URL shown without its secret. A room's messages listed
// with a Delete button each (the person in the room sees the message go), and an invite link
// made for an invite-only room that lets a newcomer in; then the whole room purged.

test.describe('the operator page', () => {
  test('the operator signs in, sees the room, bans its owner from the whole server and lifts the ban', async ({
    openPerson,
    uniqueRoom,
    serverA,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('operated');
    const carl = await openPerson('B', { name: 'Carl' });
    await carl.room.goto(`/chat/${room}/`);
    await carl.room.expectJoined(room);
    await carl.room.send('Buy cheap watches');

    const operator = await openPerson('A', { name: 'Op' });
    const page = operator.page;
    await page.goto('/admin');
    await expect(page).toHaveURL(/\/admin\/$/);
    await expect(page.getByRole('heading', { name: 'Sign in as the operator' })).toBeVisible();
    await expectAxeClean(page);

    // A wrong token: refused, the form stays.
    await page.getByLabel('Operator token').fill('not-the-operator-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('The server did not accept this operator token.');
    await expect(page.getByLabel('Operator token')).toBeVisible();

    await page.getByLabel('Operator token').fill(E2E_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: 'Instances' })).toBeVisible();
    await expect(page.getByRole('table').first().getByRole('row')).not.toHaveCount(1);

    // The room, with Carl in it, his message, and Carl as its owner (the first to post).
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: room, exact: true }) });
    await expect(row).toBeVisible();
    await expect(row.getByRole('cell').nth(0)).toHaveText('1');
    await expect(row.getByRole('cell').nth(1)).toHaveText('1');
    const carlId = (await row.getByRole('cell').nth(2).innerText()).trim();
    expect(carlId).toMatch(/^u_/);
    await expectAxeClean(page);
    await expectNoHorizontalScroll(page);

    // The webhooks: a bot with a webhook URL (nothing mentions it here) is listed, its URL
    // without the receiver's secret.
    const operatorHeaders = { authorization: `Bearer ${E2E_ADMIN_TOKEN}`, 'content-type': 'application/json' };
    const hookBot = `Hook Bot ${Date.now() % 100_000}`;
    const made = await fetch(`${serverA}/api/admin/bots`, {
      method: 'POST',
      headers: operatorHeaders,
      body: JSON.stringify({ name: hookBot, webhookUrl: 'https://bots.example.com/parley?key=e2e-secret' }),
    });
    expect(made.status).toBe(201);
    const { bot } = (await made.json()) as { bot: { id: string } };
    await page.getByRole('button', { name: 'Refresh' }).click();
    const webhooks = page.getByRole('region', { name: 'Webhooks' });
    const hookRow = webhooks
      .getByRole('row')
      .filter({ hasText: `${hookBot} (bot)` })
      .first();
    await expect(hookRow).toContainText('https://bots.example.com/parley?key=…');
    await expect(hookRow.getByRole('rowheader')).toContainText('mention');
    await expect(webhooks).not.toContainText('e2e-secret');
    await expectAxeClean(page);
    await expectNoHorizontalScroll(page);
    await fetch(`${serverA}/api/admin/bots/${bot.id}`, { method: 'DELETE', headers: operatorHeaders });

    // The token is kept for the tab: a reload stays signed in.
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Instances' })).toBeVisible();

    // Banned from the whole server: Carl's page (on the other instance with Redis) says so.
    await page.getByLabel('User id').last().fill(carlId);
    await page.getByLabel('Reason (kept with the ban)').fill('spam in every room');
    await page.getByRole('button', { name: 'Ban', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(`Banned ${carlId} from the whole server.`);
    const banRow = page.getByRole('row').filter({ hasText: `user ${carlId}` });
    await expect(banRow).toContainText('spam in every room');
    const removed = carl.page.getByTestId('removed');
    await expect(removed).toHaveAttribute('data-kind', 'banned', { timeout: 10_000 });
    await expect(removed.getByRole('heading')).toHaveText(/^The operator banned you from this server until /);

    // Lifted: gone from the list, and Carl gets back in.
    await banRow.getByRole('button', { name: `Lift the ban on user ${carlId}` }).click();
    await expect(page.getByText('Nobody is banned from the whole server.')).toBeVisible();
    // (The other instance learns of it within 2 s: until then Carl is refused again.)
    await expect(async () => {
      await carl.room.goto(`/chat/${room}/`);
      await expect(carl.room.heading(room)).toBeVisible();
      await expect(carl.room.status).toHaveAttribute('data-status', 'connected', { timeout: 1_000 });
    }).toPass({ timeout: 15_000 });

    // Signing out forgets the token.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.reload();
    await expect(page.getByLabel('Operator token')).toBeVisible();
  });

  test('the operator deletes a message from the room’s list and makes an invite link that lets a newcomer in', async ({
    openPerson,
    uniqueRoom,
    serverA,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('tidied');
    const carl = await openPerson('B', { name: 'Carl' });
    await carl.room.goto(`/chat/${room}/`);
    await carl.room.expectJoined(room);
    await carl.room.send('Hello everyone');
    await carl.room.send('Buy cheap watches');
    // Carl, its owner, makes it invite-only.
    await carl.room.makeInviteOnly();

    const operator = await openPerson('A', { name: 'Op' });
    await operator.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: serverA });
    const page = operator.page;
    await page.goto('/admin');
    await page.getByLabel('Operator token').fill(E2E_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: room, exact: true }) });
    await expect(row.getByRole('cell').nth(1)).toHaveText('2');

    // The room's messages, with the keyboard: the list opens with the focus on its heading.
    const showMessages = row.getByRole('button', { name: `Messages of ${room}` });
    await showMessages.focus();
    await page.keyboard.press('Enter');
    await expect(showMessages).toHaveAttribute('aria-expanded', 'true');
    const messages = page.getByRole('region', { name: `Messages in ${room}` });
    await expect(messages.getByRole('heading', { name: `Messages in ${room}` })).toBeFocused();
    const lines = messages.getByRole('row');
    await expect(lines).toHaveCount(3);
    await expect(lines.nth(1)).toContainText('Hello everyone');
    await expect(lines.nth(2)).toContainText('Buy cheap watches');
    await expect(lines.nth(2).getByRole('rowheader')).toContainText('Carl');
    await expectAxeClean(page);
    await expectNoHorizontalScroll(page);

    // Deleted, after a confirmation: the line says so and takes the focus; Carl sees it go.
    page.once('dialog', (dialog) => void dialog.accept());
    const remove = lines.nth(2).getByRole('button', { name: /^Delete Carl’s message of / });
    await remove.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('status')).toHaveText(new RegExp(`^Deleted Carl’s message of .+ in ${room}\\.$`));
    await expect(lines.nth(2)).toContainText('Deleted');
    await expect(lines.nth(2)).not.toContainText('Buy cheap watches');
    await expect(lines.nth(2)).toBeFocused();
    await expect(lines.nth(2).getByRole('button')).toHaveCount(0);
    await expect(carl.room.tombstones).toHaveText(['This message was deleted']);
    await carl.room.expectMessage('Hello everyone');
    await expect(row.getByRole('cell').nth(1)).toHaveText('1');
    // Closed: the focus goes back to the button that opened it.
    await messages.getByRole('button', { name: `Close the messages of ${room}` }).click();
    await expect(messages).toHaveCount(0);
    await expect(showMessages).toBeFocused();

    // An invite link for an hour, copied.
    await row.getByRole('button', { name: `Invite to ${room}` }).click();
    const invite = page.getByRole('region', { name: `Invite to ${room}` });
    await expect(invite.getByRole('heading', { name: `Invite to ${room}` })).toBeFocused();
    await expect(invite).toContainText('Anyone who opens the link before it expires can come in');
    await expect(invite.getByRole('radio', { name: '1 day' })).toBeChecked();
    await invite.getByRole('radio', { name: '1 hour' }).check();
    await invite.getByRole('button', { name: 'Create link' }).click();
    const field = invite.getByRole('textbox', { name: 'Invite link' });
    await expect(field).toHaveValue(new RegExp(`^${escapeRegExp(serverA)}/chat/${room}/\\?invite=.+`));
    await expect(field).toHaveAttribute('readonly', '');
    await expect(invite).toContainText(/Expires in 1 hour \(.+\)\./);
    const url = await field.inputValue();
    await invite.getByRole('button', { name: 'Copy' }).click();
    await expect(invite).toContainText('Copied');
    await expect(page.getByRole('status')).toHaveText('Invite link copied.');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(url);
    await expectAxeClean(page);
    await expectNoHorizontalScroll(page);

    // The link lets a newcomer into the invite-only room (on the other instance with Redis),
    // where the deleted message is gone.
    const dana = await openPerson('B', { name: 'Dana' });
    const link = new URL(url);
    await dana.room.goto(`${link.pathname}${link.search}`);
    await dana.room.expectJoined(room);
    await dana.room.expectMessage('Hello everyone');
    await expect(dana.room.anyMessage('Buy cheap watches')).toHaveCount(0);

    // Purged from its row, after a confirmation: everyone present sees the rest go too.
    page.once('dialog', (dialog) => void dialog.accept());
    await row.getByRole('button', { name: `Purge ${room}`, exact: true }).click();
    await expect(page.getByRole('status')).toHaveText(`Purged ${room}: 1 message deleted.`);
    await expect(row.getByRole('cell').nth(1)).toHaveText('0');
    await expect(dana.room.anyMessage('Hello everyone')).toHaveCount(0);
    await expect(carl.room.anyMessage('Hello everyone')).toHaveCount(0);
    await expectAxeClean(page);
  });
});
