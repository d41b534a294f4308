import { expectNoHorizontalScroll, expectNoSeriousViolations } from './checks.ts';
import { expect, test } from './fixtures.ts';
import { E2E_ADMIN_TOKEN } from './test-servers.ts';

// The operator's /admin page: signing in with ADMIN_TOKEN (a wrong token is refused), every
// room with its people and messages, and an instance-wide ban that removes a person from the
// room they are in (on the other instance in the redis project) until the operator lifts it; and
// the webhooks, with a bot's webhook URL shown without its secret.

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
    await expectNoSeriousViolations(page);

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
    await expectNoSeriousViolations(page);
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
    await expectNoSeriousViolations(page);
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
});
