import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test, type Person } from './fixtures.ts';

// A room's webhook in the web app: the owner sets one from the header's tools menu to a receiver
// this spec runs on 127.0.0.1 (the test servers have ROOM_WEBHOOK_ALLOW_PRIVATE=1), copies the
// secret shown once, and a member's message arrives there signed with it; the member sees that
// the room's events leave it, and when that changes. The owner sees the deliveries, changes the
// events, removes the webhook, sees the server's refusal of a URL, and finds the three changes in
// the moderation log, after a reload too (they are entries of the room's log). The owner and the
// member in two browsers (on two server instances in the redis project).

/** One POST the receiver got. */
interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on 127.0.0.1 that answers 200 and keeps what it got. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close: () => Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/parley/hook?token=s3cr3t-part`,
    deliveries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Whether a delivery carries a valid Parley-Signature for this secret (as the README's receiver checks it). */
function signedWith(delivery: Delivery, secret: string): boolean {
  const timestamp = String(delivery.headers['parley-timestamp'] ?? '');
  const signature = String(delivery.headers['parley-signature'] ?? '');
  const expected = `sha256=${createHmac('sha256', secret).update(`${timestamp}.${delivery.body}`).digest('hex')}`;
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  return (
    signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected)) && age < 300
  );
}

const webhookLines = (person: Person) => person.room.log.getByTestId('webhook-line');

test.describe('room webhooks', () => {
  test('the owner sets a webhook and sees its secret once; messages arrive signed; everyone is told; the owner removes it', async ({
    openPerson,
    uniqueRoom,
    engine,
  }) => {
    test.setTimeout(90_000);
    const receiver = await startReceiver();
    try {
      const room = uniqueRoom('webhook');
      const olga = await openPerson('A', { name: 'Olga' });
      const carl = await openPerson('B', { name: 'Carl' });
      await olga.room.goto(`/chat/${room}/`);
      await olga.room.expectJoined(room);
      await carl.room.goto(`/chat/${room}/`);
      await carl.room.expectJoined(room);
      // Another instance reads a room's webhook again within 2 s of a change (README, rooms'
      // webhooks): on two instances, events of that moment may go by the webhook as it was.
      const settle = () => (engine === 'redis' ? carl.page.waitForTimeout(2_500) : Promise.resolve());
      await olga.room.send('This garden is mine');
      await carl.room.expectMessage('This garden is mine');
      await expect(carl.page.getByTestId('webhook-notice')).toHaveCount(0);

      // The owner's dialog: no webhook yet, the URL field has the focus; Escape closes it.
      let dialog = await olga.room.openTool('Webhook');
      const urlField = dialog.getByLabel('Webhook URL');
      await expect(urlField).toBeFocused();
      await expect(dialog.getByRole('group', { name: 'Events to send' }).getByRole('checkbox')).toHaveCount(7);
      for (const name of [/^Messages/, /^Edits/, /^Deletions/])
        await expect(dialog.getByRole('checkbox', { name })).toBeChecked();
      await expect(dialog.getByRole('checkbox', { name: /^Arrivals/ })).not.toBeChecked();
      await expectAxeClean(olga.page);
      await expectNoHorizontalScroll(olga.page);

      // A URL the page itself refuses, then one the server refuses (not a URL it can parse): their
      // words show in the dialog, as alerts.
      await urlField.fill('ftp://example.com/hook');
      await dialog.getByRole('button', { name: 'Set webhook' }).click();
      await expect(dialog.getByTestId('webhook-url-problem')).toHaveAttribute('role', 'alert');
      await expect(dialog.getByTestId('webhook-url-problem')).toContainText('https://');
      await urlField.fill('http://[not-an-address]/hook');
      await dialog.getByRole('button', { name: 'Set webhook' }).click();
      await expect(dialog.getByTestId('webhook-url-problem')).toHaveCount(0);
      await expect(dialog.getByTestId('webhook-problem')).toContainText('not a URL');
      await expect(dialog.getByTestId('webhook-problem')).toHaveAttribute('role', 'alert');
      await expect(carl.page.getByTestId('webhook-notice')).toHaveCount(0);

      // Set: the secret is shown, once, with a note that says so; the URL is shown redacted.
      await urlField.fill(receiver.url);
      await dialog.getByRole('button', { name: 'Set webhook' }).click();
      const secretField = dialog.getByTestId('webhook-secret');
      await expect(secretField).toHaveValue(/^whsec_/);
      await expect(secretField).toBeFocused();
      await expect(dialog.getByTestId('webhook-secret-note')).toContainText('Shown only now');
      await expect(dialog.getByTestId('webhook-problem')).toHaveCount(0);
      const secret = await secretField.inputValue();
      await expect(dialog.getByTestId('webhook-url')).toContainText('/parley/hook?token=…');
      await expect(dialog.getByTestId('webhook-url')).not.toContainText('s3cr3t');
      await expectAxeClean(olga.page);
      await expectNoHorizontalScroll(olga.page);

      // Everyone is told, in the header and in the log.
      for (const person of [olga, carl]) {
        await expect(person.page.getByTestId('webhook-notice')).toContainText(
          'Sent to a webhook: messages, edits and deletions',
        );
        await expect(webhookLines(person)).toHaveText([/Olga\b.* set up a webhook: this room’s messages, edits/]);
      }
      await expectAxeClean(carl.page);
      await expectNoHorizontalScroll(carl.page);

      // A member's message arrives at the receiver, signed with the secret shown.
      await settle();
      await carl.room.send('Tomatoes are ripe');
      await olga.room.expectMessage('Tomatoes are ripe');
      await expect.poll(() => receiver.deliveries.length, { timeout: 15_000 }).toBeGreaterThan(0);
      const delivery = receiver.deliveries.find((d) => d.body.includes('Tomatoes are ripe'));
      expect(delivery, 'the message was delivered').toBeDefined();
      expect(delivery!.headers['parley-event']).toBe('message');
      expect(signedWith(delivery!, secret)).toBe(true);
      expect(signedWith(delivery!, `${secret}x`)).toBe(false);
      const body = JSON.parse(delivery!.body) as { event: string; room: string; message: { text: string } };
      expect(body).toMatchObject({ event: 'message', room, message: { text: 'Tomatoes are ripe' } });

      // The owner asks how deliveries went (other instances report every few seconds).
      await expect
        .poll(
          async () => {
            await dialog.getByRole('button', { name: 'Refresh status' }).click();
            return (
              (await dialog
                .getByTestId('webhook-counts')
                .textContent({ timeout: 2_000 })
                .catch(() => '')) ?? ''
            );
          },
          { timeout: 20_000, intervals: [500, 1_000, 2_000] },
        )
        .toMatch(/^[1-9]\d* delivered, 0 failed/);
      await expect(dialog.getByTestId('webhook-last')).toContainText('HTTP 200');

      // Closed and opened again: the secret is gone for good; the URL and events are there.
      await dialog.getByRole('button', { name: 'Close' }).click();
      await expect(dialog).toBeHidden();
      await expect(await olga.room.toolButton('Webhook')).toBeFocused();
      dialog = await olga.room.openTool('Webhook');
      await expect(dialog.getByTestId('webhook-url')).toContainText('/parley/hook?token=…');
      await expect(dialog.getByTestId('webhook-secret')).toHaveCount(0);
      await expect(olga.page.getByText(secret)).toHaveCount(0);

      // Other events: the member sees which.
      await dialog.getByRole('checkbox', { name: /^Edits/ }).uncheck();
      await dialog.getByRole('checkbox', { name: /^Deletions/ }).uncheck();
      await dialog.getByRole('checkbox', { name: /^Arrivals/ }).check();
      await dialog.getByRole('button', { name: 'Save events' }).click();
      await expect(carl.page.getByTestId('webhook-notice')).toContainText('Sent to a webhook: messages and arrivals');
      await expect(webhookLines(carl).last()).toContainText(
        'Olga changed the room’s webhook: its messages and arrivals',
      );
      await expect(dialog.getByRole('button', { name: 'Save events' })).toBeDisabled();

      // Removed, after a confirmation: the notice goes, a line says so, and nothing more arrives.
      await dialog.getByRole('button', { name: 'Remove webhook' }).click();
      await expect(dialog.getByRole('button', { name: 'Remove', exact: true })).toBeFocused();
      await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
      await expect(dialog.getByLabel('Webhook URL')).toBeFocused();
      for (const person of [olga, carl]) {
        await expect(person.page.getByTestId('webhook-notice')).toHaveCount(0);
        await expect(webhookLines(person).last()).toContainText('Olga removed the room’s webhook');
      }
      await settle();
      const before = receiver.deliveries.length;
      await carl.room.send('Nobody outside hears this');
      await olga.room.expectMessage('Nobody outside hears this');
      await olga.page.waitForTimeout(1_000);
      expect(receiver.deliveries.filter((d) => d.body.includes('Nobody outside hears this'))).toEqual([]);
      expect(receiver.deliveries.length).toBe(before);

      // The owner's moderation log has the three changes, newest first, in the log's words.
      await dialog.getByRole('button', { name: 'Close' }).click();
      await expect(dialog).toBeHidden();
      const log = await olga.room.openTool('Moderation log');
      await expect(log.getByTestId('moderation-log-item')).toHaveText([
        /^\s*Olga\b.* removed the room’s webhook: nothing is sent to it any more/,
        /^\s*Olga\b.* changed the room’s webhook: its messages and arrivals are sent to it/,
        /^\s*Olga\b.* set up a webhook: this room’s messages, edits and deletions are sent to it/,
      ]);
      await expect(log.getByTestId('moderation-log-item').first()).toHaveAttribute('data-kind', 'webhook');
      await expectAxeClean(olga.page);
      await expectNoHorizontalScroll(olga.page);

      // The changes are entries of the room's log: after a reload, the owner's moderation log and
      // the member's message log still have them (from the welcome), in the same words.
      await log.getByRole('button', { name: 'Close' }).click();
      await expect(log).toBeHidden();
      for (const person of [olga, carl]) {
        await person.page.reload();
        await person.room.expectJoined(room);
        await expect(webhookLines(person)).toHaveText([
          /Olga\b.* set up a webhook: this room’s messages, edits/,
          /Olga\b.* changed the room’s webhook: its messages and arrivals/,
          /Olga\b.* removed the room’s webhook/,
        ]);
      }
      await olga.room.openTool('Moderation log');
      await expect(log.getByTestId('moderation-log-item')).toHaveText([
        /^\s*Olga\b.* removed the room’s webhook: nothing is sent to it any more/,
        /^\s*Olga\b.* changed the room’s webhook: its messages and arrivals are sent to it/,
        /^\s*Olga\b.* set up a webhook: this room’s messages, edits and deletions are sent to it/,
      ]);
    } finally {
      await receiver.close();
    }
  });

  test('only the owner has the webhook tool; a member who arrives later is told by the welcome', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const receiver = await startReceiver();
    try {
      const room = uniqueRoom('webhook_welcome');
      const olga = await openPerson('A', { name: 'Olga' });
      await olga.room.goto(`/chat/${room}/`);
      await olga.room.expectJoined(room);
      await olga.room.send('Mine');
      const dialog = await olga.room.openTool('Webhook');
      await dialog.getByRole('checkbox', { name: /^Arrivals/ }).check();
      await dialog.getByLabel('Webhook URL').fill(receiver.url);
      await dialog.getByLabel('Webhook URL').press('Enter');
      await expect(dialog.getByTestId('webhook-secret')).toHaveValue(/^whsec_/);
      await olga.page.keyboard.press('Escape');
      await expect(dialog).toBeHidden();

      const dana = await openPerson('B', { name: 'Dana' });
      await dana.room.goto(`/chat/${room}/`);
      await dana.room.expectJoined(room);
      await expect(dana.page.getByTestId('webhook-notice')).toContainText(
        'Sent to a webhook: messages, edits, deletions and arrivals',
      );
      // The whole sentence, for screen readers (and the tooltip).
      await expect(dana.page.getByTestId('webhook-notice')).toHaveAttribute('title', /outside this chat server/);
      expect(await dana.room.headerTools()).toEqual([]);
      // Her arrival went out too.
      await expect
        .poll(() => receiver.deliveries.some((d) => d.headers['parley-event'] === 'join' && d.body.includes('Dana')), {
          timeout: 15_000,
        })
        .toBe(true);
    } finally {
      await receiver.close();
    }
  });
});
