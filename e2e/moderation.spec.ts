import type { Locator } from '@playwright/test';
import { expectNoHorizontalScroll, expectAxeClean } from './checks.ts';
import { expect, test, type Person } from './fixtures.ts';
import { openGuests } from './guests.ts';
import { escapeRegExp } from './pages/room-page.ts';

// Rooms people can protect: the first to post owns the room, and removes, bans, unbans and mutes
// a disruptive person from the member list, their messages and the log's moderation lines. Two
// people in two browsers (on two server instances in the redis project).

/**
 * A clock time as the browser's locale writes it (14:20, or 2:20 PM), after its date when that is
 * another day ("Dec 5, 12:02 AM": a ban for an hour made after 11 pm ends tomorrow).
 */
const TIME = '(?:[^,]+(?:, \\d{4})?, )?\\d{1,2}:\\d{2}(\\s?[AP]M)?';

/** Opens the member list where it is a closed sheet (a phone). */
async function showMembers(person: Person): Promise<void> {
  if ((await person.room.membersToggle.getAttribute('aria-expanded')) === 'false')
    await person.room.membersToggle.click();
  await expect(person.room.memberList).toBeVisible();
}

/** A person's entry in the member list (its text starts with the white space of the markup). */
function memberEntry(person: Person, name: string): Locator {
  return person.room.members.filter({ hasText: new RegExp(`^\\s*${escapeRegExp(name)}\\b`) });
}

/** Picks an action from a person's menu in the member list; the dialog opens. */
async function moderateFromList(person: Person, name: string, action: string): Promise<Locator> {
  await showMembers(person);
  await memberEntry(person, name)
    .getByRole('button', { name: `Moderate ${name}` })
    .click();
  await person.page
    .getByRole('menu', { name: `Moderate ${name}` })
    .getByRole('menuitem', { name: action })
    .click();
  const dialog = person.page.getByTestId('moderation-dialog');
  await expect(dialog).toBeVisible();
  return dialog;
}

/** Runs one of a message's toolbar actions (from its menu button on a phone). */
async function messageToolbar(person: Person, message: Locator, action: string): Promise<void> {
  // On a phone the member sheet covers the messages.
  if (
    (person.page.viewportSize()?.width ?? 1280) < 768 &&
    (await person.room.membersToggle.getAttribute('aria-expanded')) === 'true'
  )
    await person.room.membersToggle.click();
  const menu = message.getByTestId('message-menu');
  if (await menu.isVisible()) await menu.click();
  else await message.hover();
  await message.getByRole('toolbar').getByRole('button', { name: action, exact: true }).click();
}

/** The lines of the log about moderation actions. */
const moderationLines = (person: Person) => person.room.log.getByTestId('moderation-line');

test.describe('moderation', () => {
  test('the owner removes a disruptive person, who can rejoin; bans them, who stay out; unbans them, who come back', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('moderation');
    const olga = await openPerson('A', { name: 'Olga' });
    const carl = await openPerson('B', { name: 'Carl' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await carl.room.goto(`/chat/${room}/`);
    await carl.room.expectJoined(room);

    // The first to post owns the room: a badge beside her name, everywhere.
    await olga.room.send('Welcome to the room');
    await carl.room.expectMessage('Welcome to the room');
    for (const person of [olga, carl]) {
      await showMembers(person);
      await expect(memberEntry(person, 'Olga').getByTestId('role-badge')).toHaveAttribute('data-role', 'Owner');
      await expect(memberEntry(person, 'Carl').getByTestId('role-badge')).toHaveCount(0);
    }
    // A member has no menu on anyone.
    await expect(carl.room.memberList.getByRole('button', { name: /^Moderate/ })).toHaveCount(0);

    await carl.room.send('BUY CHEAP WATCHES');
    await carl.room.send('BUY CHEAP WATCHES NOW');
    await olga.room.expectMessage('BUY CHEAP WATCHES NOW');

    // The owner deletes anyone's message.
    const spam = olga.room.message('BUY CHEAP WATCHES');
    await messageToolbar(olga, spam, 'Delete');
    await olga.page.getByRole('button', { name: 'Yes, delete' }).click();
    await expect(carl.room.tombstones).toHaveCount(1);

    // The menu is a menu: the keyboard moves in it, Escape closes it and gives the focus back.
    await showMembers(olga);
    const toggle = memberEntry(olga, 'Carl').getByRole('button', { name: 'Moderate Carl' });
    await toggle.click();
    const menu = olga.page.getByRole('menu', { name: 'Moderate Carl' });
    await expect(menu.getByRole('menuitem')).toHaveText([
      'Remove from the room',
      'Ban',
      'Mute',
      'Remove recent messages',
      'Make moderator',
      'Hand over the room',
    ]);
    await expect(menu.getByRole('menuitem').first()).toBeFocused();
    await olga.page.keyboard.press('ArrowDown');
    await expect(menu.getByRole('menuitem', { name: 'Ban' })).toBeFocused();
    await olga.page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(toggle).toBeFocused();

    // Removed: Carl sees why, and the room does not reconnect on its own.
    let dialog = await moderateFromList(olga, 'Carl', 'Remove from the room');
    await dialog.getByLabel(/^Reason/).fill('calm down');
    await dialog.getByRole('button', { name: 'Remove from the room' }).click();
    await expect(dialog).toBeHidden();
    const removed = carl.page.getByTestId('removed');
    await expect(removed.getByRole('heading')).toHaveText('A moderator removed you from this room');
    await expect(removed).toContainText('Removed by Olga');
    await expect(removed).toContainText('calm down');
    await expect(removed.getByRole('link', { name: 'Go to the lobby' })).toBeVisible();
    await carl.room.expectStatus('closed');
    await expect(moderationLines(olga).last()).toContainText('Olga removed Carl (calm down)');
    await expect(memberEntry(olga, 'Carl')).toHaveCount(0);
    await carl.page.waitForTimeout(1_500);
    await carl.room.expectStatus('closed');

    // …and may come back.
    await removed.getByRole('button', { name: 'Rejoin' }).click();
    await carl.room.expectJoined(room);
    await expect(memberEntry(olga, 'Carl')).toHaveCount(1);

    // Banned from his message's menu, for an hour, with a reason.
    await messageToolbar(olga, olga.room.message('BUY CHEAP WATCHES NOW'), 'Moderate Carl');
    await olga.page.getByRole('menu', { name: 'Moderate Carl' }).getByRole('menuitem', { name: 'Ban' }).click();
    dialog = olga.page.getByTestId('moderation-dialog');
    await expect(dialog.getByRole('radio', { name: '1 hour' })).toBeChecked();
    await expect(dialog.getByRole('radio')).toHaveCount(5);
    await dialog.getByLabel(/^Reason/).fill('spam');
    await expectAxeClean(olga.page);
    await dialog.getByRole('button', { name: 'Ban', exact: true }).click();
    await expect(dialog).toBeHidden();
    const banned = carl.page.getByTestId('removed');
    await expect(banned.getByRole('heading')).toHaveText(new RegExp(`^You are banned from this room until ${TIME}`));
    await expect(banned).toContainText('spam');
    await expect(moderationLines(olga).last()).toContainText(
      new RegExp(`^\\s*Olga banned Carl until ${TIME} \\(spam\\)`),
    );
    await expectAxeClean(carl.page);
    await expectNoHorizontalScroll(carl.page);

    // Opening the room again: still out, before any welcome.
    await carl.page.reload();
    await expect(carl.page.getByTestId('removed').getByRole('heading')).toHaveText(
      new RegExp(`^You are banned from this room until ${TIME}`),
    );
    await carl.room.expectStatus('closed');
    const second = await carl.context.newPage();
    await second.goto(`/chat/${room}/`);
    await expect(second.getByTestId('removed')).toHaveAttribute('data-kind', 'banned');
    await second.close();
    // "Try again" while banned: refused again.
    await carl.page.getByRole('button', { name: 'Try again' }).click();
    await expect(carl.page.getByTestId('removed')).toHaveAttribute('data-kind', 'banned');

    // Unbanned from the line of the ban: he is out of the member list, so the line offers it.
    await moderationLines(olga).last().getByRole('button', { name: 'Unban Carl' }).click();
    dialog = olga.page.getByTestId('moderation-dialog');
    await dialog.getByRole('button', { name: 'Unban', exact: true }).click();
    await expect(dialog).toBeHidden();
    await expect(moderationLines(olga).last()).toContainText('Olga unbanned Carl');
    await expect(moderationLines(olga).nth(-2).getByRole('button', { name: 'Unban Carl' })).toHaveCount(0);

    await carl.page.getByRole('button', { name: 'Try again' }).click();
    await carl.room.expectJoined(room);
    await carl.room.send('sorry');
    await olga.room.expectMessage('sorry');

    // A topic, then a reload: the moderation log still has every line (the welcome lists the
    // entries of the history shown), and the topic's line says the settings it left (this page
    // does not know what they were before it). Carl is not banned now: no line offers Unban.
    const settings = await olga.room.openSettings();
    await settings.getByLabel('Topic').fill('Be kind');
    await settings.getByRole('button', { name: 'Save' }).click();
    await expect(settings).toBeHidden();
    await expect(carl.page.getByTestId('room-topic')).toHaveText('Topic: Be kind');
    await olga.page.reload();
    await olga.room.expectJoined(room);
    await expect(moderationLines(olga)).toHaveText([
      /^\s*Olga removed Carl \(calm down\)/,
      new RegExp(`^\\s*Olga banned Carl until ${TIME} \\(spam\\)`),
      /^\s*Olga unbanned Carl/,
    ]);
    await expect(moderationLines(olga).getByRole('button', { name: 'Unban Carl' })).toHaveCount(0);
    const log = await olga.room.openTool('Moderation log');
    await expect(log.getByTestId('moderation-log-item')).toHaveText([
      /^\s*Olga\b.* changed the room’s settings, now: topic “Be kind”; no slow mode/,
      /^\s*Olga\b.* unbanned Carl\b/,
      new RegExp(`^\\s*Olga\\b.* banned Carl\\b.* until ${TIME} \\(spam\\)`),
      /^\s*Olga\b.* removed Carl\b.* \(calm down\)/,
    ]);
  });

  test('a muted person sees the composer disabled until they are unmuted; a refusal shows the server’s words', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('mute');
    const olga = await openPerson('A', { name: 'Olga' });
    const carl = await openPerson('B', { name: 'Carl' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await carl.room.goto(`/chat/${room}/`);
    await carl.room.expectJoined(room);
    await olga.room.send('Welcome to the room');
    await carl.room.expectMessage('Welcome to the room');

    const dialog = await moderateFromList(olga, 'Carl', 'Mute');
    await dialog.getByRole('radio', { name: '10 minutes' }).check();
    await dialog.getByRole('button', { name: 'Mute', exact: true }).click();
    await expect(dialog).toBeHidden();

    await expect(carl.page.getByTestId('muted')).toHaveText(new RegExp(`^You are muted until ${TIME}\\.$`));
    await expect(carl.room.messageInput).toBeDisabled();
    await expect(carl.room.sendButton).toBeDisabled();
    await expect(moderationLines(carl).last()).toContainText(new RegExp(`^\\s*Olga muted Carl until ${TIME}`));
    await expectAxeClean(carl.page);

    // Unmuted from the member list: the menu offers Unmute now.
    await showMembers(olga);
    await memberEntry(olga, 'Carl').getByRole('button', { name: 'Moderate Carl' }).click();
    await olga.page.getByRole('menu', { name: 'Moderate Carl' }).getByRole('menuitem', { name: 'Unmute' }).click();
    await olga.page.getByTestId('moderation-dialog').getByRole('button', { name: 'Unmute', exact: true }).click();
    await expect(olga.page.getByTestId('moderation-dialog')).toBeHidden();

    await expect(carl.room.messageInput).toBeEnabled();
    await expect(carl.page.getByTestId('muted')).toHaveCount(0);
    await carl.room.send('thanks');
    await olga.room.expectMessage('thanks');

    // Refused: Carl is gone by the time Olga confirms; the dialog shows the server's words.
    const refused = await moderateFromList(olga, 'Carl', 'Remove from the room');
    await carl.page.goto('/');
    await expect(memberEntry(olga, 'Carl')).toHaveCount(0);
    await refused.getByRole('button', { name: 'Remove from the room' }).click();
    await expect(refused.getByTestId('moderation-problem')).toBeVisible();
    await refused.getByRole('button', { name: 'Cancel' }).click();
    await expect(refused).toBeHidden();
  });
  test('a person’s menu low in a long member list shows whole, over the list, and the list stays put', async ({
    browser,
    openPerson,
    uniqueRoom,
    serverA,
  }) => {
    const room = uniqueRoom('long_list');
    const olga = await openPerson('A', { name: 'Olga' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    await olga.room.send('Welcome to the room');
    await olga.room.expectMessage('Welcome to the room');
    // Enough people that the list scrolls, at a phone's size as on a desktop.
    const guests = await (await browser.newContext({ baseURL: serverA })).newPage();
    await guests.goto('/healthz');
    await guests.evaluate(openGuests, { room, count: 24 });
    await expect(olga.room.membersToggle).toHaveText(/\b25\b/);
    await showMembers(olga);
    const scroller = olga.room.memberList.locator('xpath=..');
    expect(await scroller.evaluate((el) => el.scrollHeight > el.clientHeight)).toBe(true);

    // The lowest row wholly in view (the list at its top): its menu has no room below it in the list.
    const name = await scroller.evaluate((el) => {
      const view = el.getBoundingClientRect();
      const rows = [...el.querySelectorAll('li')].filter((row) => row.getBoundingClientRect().bottom <= view.bottom);
      return rows.at(-1)!.querySelector('.name')!.textContent!;
    });
    const row = memberEntry(olga, name);
    const rowBox = await row.boundingBox();
    const scrollTop = await scroller.evaluate((el) => el.scrollTop);
    const toggle = row.getByRole('button', { name: `Moderate ${name}` });
    await toggle.click();
    const menu = olga.page.getByRole('menu', { name: `Moderate ${name}` });
    const items = menu.getByRole('menuitem');
    await expect(items.first()).toBeFocused();
    expect(await items.count()).toBeGreaterThanOrEqual(5);

    // Every item wholly inside the viewport, and on top where it is drawn (not under the list's edge).
    const viewport = olga.page.viewportSize()!;
    for (const item of await items.all()) {
      const box = (await item.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.y).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
      expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
      const corners = [
        [box.x + box.width / 2, box.y + box.height / 2],
        [box.x + 2, box.y + 2],
        [box.x + box.width - 2, box.y + box.height - 2],
      ];
      for (const [x, y] of corners)
        expect(
          await item.evaluate((el, [x, y]) => el.contains(document.elementFromPoint(x!, y!)), [x, y]),
          `${await item.textContent()} is on top at ${x},${y}`,
        ).toBe(true);
    }
    // The person's row is where it was: the list did not scroll to the menu.
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(scrollTop);
    expect(await row.boundingBox()).toEqual(rowBox);
    await expect(row).toBeInViewport({ ratio: 1 });
    await expect(toggle).toHaveAttribute('aria-expanded', 'true');

    // Still a menu: the arrows move, Escape closes it and gives its button the focus.
    await olga.page.keyboard.press('ArrowUp');
    await expect(items.last()).toBeFocused();
    expect(await scroller.evaluate((el) => el.scrollTop)).toBe(scrollTop);
    await olga.page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(toggle).toBeFocused();
    // A click elsewhere closes it.
    await toggle.click();
    await expect(items.first()).toBeFocused();
    await olga.room.log.click({ position: { x: 5, y: 5 } });
    await expect(menu).toBeHidden();
    // Scrolling the list closes it (it would be left beside nobody), and the focus stays on its button.
    await toggle.click();
    await expect(items.first()).toBeFocused();
    await scroller.evaluate((el) => el.scrollBy(0, 40));
    await expect(menu).toBeHidden();
    await expect(toggle).toBeFocused();
    // People coming in above the row move it out of view: the menu closes, and the row is kept in
    // the list's page (it has the focus), so its button keeps the focus.
    await toggle.click();
    await expect(items.first()).toBeFocused();
    await guests.evaluate(openGuests, { room, count: 12, name: 'Aaron' });
    await expect(olga.room.membersToggle).toHaveText(/\b37\b/);
    await expect(menu).toBeHidden();
    await expect(toggle).toBeFocused();
    await expect(row).not.toBeInViewport();
    await guests.context().close();
  });
});
