import type { Locator } from '@playwright/test';
import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test, type Person } from './fixtures.ts';

// The owner's room settings: a topic under the room's name, slow mode, read-only, and a room
// hidden from the lobby's list. The owner and a member in two browsers (on two server instances
// in the redis project).

/** The lines of the log about changes of the room's settings. */
const settingsLines = (person: Person) => person.room.log.getByTestId('settings-line');

/** Saves the dialog; it closes once the server took the change, and the focus goes back. */
async function save(person: Person, dialog: Locator): Promise<void> {
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(dialog).toBeHidden();
  await expect(await person.room.toolButton('Room settings')).toBeFocused();
}

test.describe('room settings', () => {
  test('the owner sets a topic and slow mode, then makes the room read-only and unlisted; a member sees each', async ({
    openPerson,
    uniqueRoom,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('settings');
    const olga = await openPerson('A', { name: 'Olga' });
    const carl = await openPerson('B', { name: 'Carl' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await carl.room.goto(`/chat/${room}/`);
    await carl.room.expectJoined(room);

    // The first to post owns the room: only she has the settings.
    await olga.room.send('Welcome to the garden');
    await carl.room.expectMessage('Welcome to the garden');
    await expect.poll(() => olga.room.headerTools()).toContain('Room settings');
    expect(await carl.room.headerTools()).not.toContain('Room settings');
    const settingsButton = await olga.room.toolButton('Room settings');

    // A modal dialog: the focus is in it, Escape closes it and gives the focus back.
    let dialog = await olga.room.openSettings();
    await expect(dialog.getByLabel('Topic')).toBeFocused();
    await expect(dialog.getByRole('radio', { name: 'Off' })).toBeChecked();
    await expect(dialog.getByRole('group', { name: 'Slow mode' }).getByRole('radio')).toHaveCount(7);
    await olga.page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(settingsButton).toBeFocused();

    // A topic (text, never markup) and slow mode, in one change.
    const topic = 'Plots are handed out on <b>Saturday</b> & Sunday';
    dialog = await olga.room.openSettings();
    await dialog.getByLabel('Topic').fill(topic);
    await dialog.getByRole('radio', { name: '30 s' }).check();
    await expectAxeClean(olga.page);
    await expectNoHorizontalScroll(olga.page);
    await save(olga, dialog);

    for (const person of [olga, carl]) {
      await expect(person.page.getByTestId('room-topic')).toHaveText(`Topic: ${topic}`);
      await expect(settingsLines(person)).toHaveText([
        new RegExp(`^\\s*Olga\\b.* set the topic: ${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
        /^\s*Olga\b.* turned on slow mode: one message every 30 s/,
      ]);
    }
    await expect(carl.page.getByTestId('room-topic').locator('b')).toHaveCount(0);
    // Slow mode holds for members; the owner is exempt.
    await expect(carl.page.getByTestId('slow-mode')).toHaveText('Slow mode: one message every 30 s');
    await expect(olga.page.getByTestId('slow-mode')).toHaveCount(0);

    // One message goes through; the next is refused, and the composer counts down the wait.
    await carl.room.send('First plot for me');
    await olga.room.expectMessage('First plot for me');
    await carl.room.send('And the one next to it');
    await carl.room.expectState('And the one next to it', 'failed');
    await expect(carl.room.anyMessage('And the one next to it')).toContainText('slow mode');
    const wait = carl.page.getByTestId('slow-mode-wait');
    await expect(wait).toHaveText(/^\s*Slow mode: you can post again in \d+ s\.\s*$/);
    await expect(carl.room.sendButton).toBeDisabled();
    const seconds = async () => Number((await wait.textContent())?.match(/in (\d+) s/)?.[1]);
    const first = await seconds();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThanOrEqual(30);
    await expect.poll(seconds, { timeout: 5_000 }).toBeLessThan(first);
    await expectAxeClean(carl.page);
    // The owner posts as she likes.
    await olga.room.send('Owners are exempt');
    await olga.room.send('Twice in a row');
    await carl.room.expectMessage('Twice in a row');

    // Read-only: the member's composer is closed, the owner's is not.
    dialog = await olga.room.openSettings();
    await expect(dialog.getByLabel('Topic')).toHaveValue(topic);
    await expect(dialog.getByRole('radio', { name: '30 s' })).toBeChecked();
    await dialog.getByRole('checkbox', { name: 'Read-only' }).check();
    await save(olga, dialog);
    await expect(settingsLines(carl).last()).toContainText('Olga made the room read-only');
    await expect(carl.page.getByTestId('read-only')).toHaveText('Only the owner and moderators can post here.');
    await expect(carl.room.messageInput).toBeDisabled();
    await expect(carl.room.sendButton).toBeDisabled();
    await expectAxeClean(carl.page);
    await olga.room.send('Only I post now');
    await carl.room.expectMessage('Only I post now');

    // Unlisted: the room leaves the lobby's list (which refreshes every few seconds).
    const lou = await openPerson('A', { name: 'Lou' });
    await lou.lobby.goto();
    await expect(lou.lobby.activeRoom(room)).toHaveCount(1, { timeout: 15_000 });
    dialog = await olga.room.openSettings();
    await dialog.getByRole('checkbox', { name: 'Hide from the room list' }).check();
    await save(olga, dialog);
    await expect(settingsLines(carl).last()).toContainText('Olga hid the room from the room list');
    await expect(lou.lobby.activeRoom(room)).toHaveCount(0, { timeout: 15_000 });
  });

  test('a refused change shows the server’s words in the dialog', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('settings_refused');
    const olga = await openPerson('A', { name: 'Olga' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await olga.room.send('Mine');
    const dialog = await olga.room.openSettings();
    // A topic the server refuses (a control character is not text it shows).
    await dialog.getByLabel('Topic').fill('bell \u0007 here');
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog.getByTestId('settings-problem')).toBeVisible();
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
    await expect(olga.page.getByTestId('room-topic')).toHaveCount(0);
  });
});
