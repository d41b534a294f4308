import { expectAxeClean } from './checks.ts';
import { expect, test } from './fixtures.ts';
import { E2E_ADMIN_TOKEN } from './test-servers.ts';

// Bots: the operator makes one on the /admin page and copies its key; a program posts with it
// over HTTP (to server A), and a person in the room (on server B in the redis project) sees the
// message with a BOT badge.

test.describe('bots', () => {
  test('a bot made on the operator page posts over HTTP; people see its message with a BOT badge', async ({
    openPerson,
    uniqueRoom,
    serverA,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('bots');
    const operator = await openPerson('A', { name: 'Op' });
    const page = operator.page;
    await page.goto('/admin/');
    await page.getByLabel('Operator token').fill(E2E_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Bot name').fill('Deploy Bot');
    await page.getByRole('button', { name: 'Make bot' }).click();
    const keyField = page.getByLabel('Key of Deploy Bot (shown once)');
    await expect(keyField).toBeVisible();
    const key = await keyField.inputValue();
    expect(key).toMatch(/^bot_[\w-]+\.[\w-]+$/);
    await expect(page.getByRole('row').filter({ hasText: 'Deploy Bot' })).toBeVisible();
    await expectAxeClean(page);

    const bob = await openPerson('B', { name: 'Bob' });
    await bob.room.goto(`/chat/${room}/`);
    await bob.room.expectJoined(room);
    const res = await fetch(`${serverA}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'idempotency-key': 'deploy-1' },
      body: JSON.stringify({ text: 'Deploy of v2.3 finished' }),
    });
    expect(res.status).toBe(201);
    await bob.room.expectMessage('Deploy of v2.3 finished');
    const group = bob.page.getByTestId('group').filter({ hasText: 'Deploy of v2.3 finished' });
    await expect(group.getByTestId('bot-badge')).toHaveText('BOT');
    await expect(group).toHaveAttribute('data-author', 'Deploy Bot');
    await expectAxeClean(bob.page);

    // Deleted on the operator page: the key stops working.
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete the bot Deploy Bot' }).click();
    await expect(page.getByRole('row').filter({ hasText: 'Deploy Bot' })).toHaveCount(0);
    const refused = await fetch(`${serverA}/api/rooms/${room}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'still here?' }),
    });
    expect(refused.status).toBe(401);
  });
});
