import type { Page } from '@playwright/test';
import { expect, test } from './fixtures.ts';

/**
 * Hides or shows the page, as switching to another tab would. Headless Chromium never hides a
 * page (checked: with another page or window in front, `document.visibilityState` stays
 * "visible"), so the page's own `visibilityState` and `hidden` are overridden and the events a
 * real tab switch fires are dispatched. The app reads exactly these, so its real code path runs.
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((hide) => {
    Object.defineProperty(document, 'visibilityState', {
      configurable: true,
      get: () => (hide ? 'hidden' : 'visible'),
    });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hide });
    document.dispatchEvent(new Event('visibilitychange'));
    if (!hide) window.dispatchEvent(new Event('focus'));
  }, hidden);
}

type Shown = { title: string; body: string | undefined };

/**
 * Runs in the page before the app: `new Notification(...)` is recorded in `window.__notifications`
 * instead of reaching the operating system; the permission and requestPermission stay real.
 */
function recordNotifications(): void {
  const shown: Shown[] = [];
  (window as unknown as { __notifications: Shown[] }).__notifications = shown;
  window.Notification = new Proxy(window.Notification, {
    construct(_target, args: [string, NotificationOptions?]) {
      shown.push({ title: args[0], body: args[1]?.body });
      return Object.assign(new EventTarget(), { close() {}, onclick: null });
    },
    get: (target, property) => Reflect.get(target, property),
  });
}

const notifications = (page: Page): Promise<Shown[]> =>
  page.evaluate(() => (window as unknown as { __notifications: Shown[] }).__notifications);

test.describe('while the tab is hidden', () => {
  test('the title counts unread messages until the tab is back; mentions notify if allowed', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('away');
    const alice = await openPerson('A', { name: 'Alice' });
    const bob = await openPerson('B', { name: 'Bob' });
    await alice.context.grantPermissions(['notifications']);
    await alice.context.addInitScript(recordNotifications);
    for (const person of [alice, bob]) {
      await person.room.goto(`/chat/${room}/`);
      await person.room.expectJoined(room);
    }
    const title = `${room} · Parley`;
    await expect(alice.page).toHaveTitle(title);
    // The browser's permission is granted: mention notifications are on.
    await expect(alice.room.notifyToggle).toHaveAttribute('aria-pressed', 'true');

    await setHidden(alice.page, true);
    await bob.room.send('anyone around?');
    await expect(alice.page).toHaveTitle(`(1) ${title}`);
    await bob.room.send('Alice, the build is green');
    await expect(alice.page).toHaveTitle(`(2) ${title}`);
    // Only the message that mentions her notifies.
    await expect
      .poll(() => notifications(alice.page))
      // The title names the sender with their tag (four characters from their user id).
      .toEqual([
        {
          title: expect.stringMatching(new RegExp(`^Bob #[0-9a-z]{4} in ${room}$`)),
          body: 'Alice, the build is green',
        },
      ]);

    await setHidden(alice.page, false);
    await expect(alice.page).toHaveTitle(title);
    // Looking at the room, a mention is just a highlighted message.
    await bob.room.send('thanks @alice');
    await alice.room.expectMessage('thanks @alice');
    await expect(alice.page).toHaveTitle(title);

    // Turned off, mentions no longer notify (and the choice outlives a reload).
    await alice.room.notifyToggle.click();
    await expect(alice.room.notifyToggle).toHaveAttribute('aria-pressed', 'false');
    await alice.page.reload();
    await alice.room.expectJoined(room);
    await expect(alice.room.notifyToggle).toHaveAttribute('aria-pressed', 'false');
    await setHidden(alice.page, true);
    await bob.room.send('Alice? still there?');
    await expect(alice.page).toHaveTitle(`(1) ${title}`);
    expect(await notifications(alice.page)).toEqual([]);
  });

  test('without the permission, the bell asks for it', async ({ openPerson, uniqueRoom }) => {
    const room = uniqueRoom('ask');
    const alice = await openPerson('A', { name: 'Alice' });
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    // Never asked: off, and the bell offers to ask.
    await expect(alice.room.notifyToggle).toHaveAttribute('aria-pressed', 'false');
    await alice.context.grantPermissions(['notifications']);
    await alice.room.notifyToggle.click();
    await expect(alice.room.notifyToggle).toHaveAttribute('aria-pressed', 'true');
  });
});
