import { expectAxeClean, expectNoHorizontalScroll } from './checks.ts';
import { expect, test } from './fixtures.ts';

// The room's header on a phone, where the name of the room is what matters most in it: the
// owner's settings, the moderators' tools and the bell share one Room menu (⋯), and the people
// count keeps to its digits, so that a name like launch_party shows whole beside a count of five
// digits. Wider than a phone, the header keeps a button for each.

/** The phones of the suite: the phone project's and the README screenshots'. */
const PHONES = [
  { width: 375, height: 667 },
  { width: 390, height: 844 },
];

const TOOLS = ['Room settings', 'Invite people', 'Moderation log', 'Webhook'] as const;

test.describe('the room header on a phone', () => {
  test.use({ viewport: PHONES[0], isMobile: true, hasTouch: true });

  test('the room’s name shows whole beside a five-digit count', async ({ roomPage, page }) => {
    const room = 'launch_party';
    // A big room's count, from the server's presence frame (sent here by the route, not by
    // 12,345 sockets).
    const route = await roomPage.gotoThroughRoute(room);
    route.send(JSON.stringify({ type: 'presence', count: 12_345 }));
    await expect(roomPage.membersToggle).toHaveText(/12,345/);

    const name = roomPage.heading(room);
    for (const viewport of PHONES) {
      await page.setViewportSize(viewport);
      await expect(roomPage.roomMenuButton).toBeVisible();
      await expect(name).toHaveText(`#${room}`);
      // Not cut off: the heading's text is no wider than the heading.
      await expect
        .poll(() => name.evaluate((heading) => heading.scrollWidth - heading.clientWidth), {
          message: `at ${viewport.width} px`,
        })
        .toBeLessThanOrEqual(0);
      await expect(roomPage.membersToggle).toBeInViewport({ ratio: 1 });
      await expectNoHorizontalScroll(page);
    }
  });

  test('each tool opens from the Room menu, and the focus comes back to it; wider, each has its button', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('menu');
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    // The first to post owns the room: every tool is hers.
    await roomPage.send('Mine');
    await expect.poll(() => roomPage.headerTools()).toEqual([...TOOLS]);
    await expect(roomPage.settingsButton).toHaveCount(0);
    await expect(roomPage.moderationToolsButton).toHaveCount(0);
    await expect(roomPage.notifyToggle).toHaveCount(0);

    for (const tool of TOOLS) {
      const dialog = await roomPage.openTool(tool);
      await page.keyboard.press('Escape');
      await expect(dialog).toBeHidden();
      await expect(roomPage.roomMenuButton).toBeFocused();
    }

    // The bell is a checkbox item of the menu: picked, it asks for the permission and turns on.
    await page.context().grantPermissions(['notifications']);
    const bell = roomPage.roomMenu.getByRole('menuitemcheckbox', { name: 'Notify me of mentions' });
    await roomPage.roomMenuButton.click();
    await expect(bell).toHaveAttribute('aria-checked', 'false');
    await bell.click();
    await expect(roomPage.roomMenu).toBeHidden();
    await expect(roomPage.roomMenuButton).toBeFocused();
    await roomPage.roomMenuButton.click();
    await expect(bell).toHaveAttribute('aria-checked', 'true');
    await page.keyboard.press('Escape');

    // Wider than a phone: a button for the settings, the moderators' menu and the bell; no Room menu.
    await page.setViewportSize({ width: 1024, height: 768 });
    await expect(roomPage.settingsButton).toBeVisible();
    await expect(roomPage.moderationToolsButton).toBeVisible();
    await expect(roomPage.notifyToggle).toHaveAttribute('aria-pressed', 'true');
    await expect(roomPage.roomMenuButton).toHaveCount(0);
    await page.setViewportSize(PHONES[0]!);
    await expect(roomPage.roomMenuButton).toBeVisible();
    await expect(roomPage.settingsButton).toHaveCount(0);
  });

  test('the Room menu by keyboard: open, move, pick, Escape gives the focus back', async ({
    roomPage,
    page,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('menu_keys');
    await roomPage.goto(`/chat/${room}/`);
    await roomPage.expectJoined(room);
    await roomPage.send('Mine');
    await expect.poll(() => roomPage.headerTools()).toEqual([...TOOLS]);
    const button = roomPage.roomMenuButton;
    const menu = roomPage.roomMenu;
    const item = (name: string) => menu.getByRole('menuitem', { name, exact: true });
    const bell = menu.getByRole('menuitemcheckbox', { name: 'Notify me of mentions' });

    // A menu button: Enter opens the menu, whose first item takes the focus.
    await expect(button).toHaveAttribute('aria-haspopup', 'menu');
    await expect(button).toHaveAttribute('aria-expanded', 'false');
    await button.focus();
    await page.keyboard.press('Enter');
    await expect(button).toHaveAttribute('aria-expanded', 'true');
    await expect(menu.getByRole('menuitem')).toHaveText([...TOOLS]);
    await expect(item('Room settings')).toBeFocused();
    await expectAxeClean(page);

    // The arrows move (round from one end to the other), Home and End go to the ends.
    await page.keyboard.press('ArrowDown');
    await expect(item('Invite people')).toBeFocused();
    await page.keyboard.press('End');
    await expect(bell).toBeFocused();
    await page.keyboard.press('ArrowDown');
    await expect(item('Room settings')).toBeFocused();
    await page.keyboard.press('ArrowUp');
    await expect(bell).toBeFocused();
    await page.keyboard.press('Home');
    await expect(item('Room settings')).toBeFocused();

    // Escape closes it and gives the focus back to its button.
    await page.keyboard.press('Escape');
    await expect(menu).toBeHidden();
    await expect(button).toBeFocused();
    await expect(button).toHaveAttribute('aria-expanded', 'false');

    // Enter on an item opens its tool; closed, the focus is on the menu's button again.
    await page.keyboard.press('Enter');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect(item('Moderation log')).toBeFocused();
    await page.keyboard.press('Enter');
    const log = page.getByRole('dialog', { name: 'Moderation log' });
    await expect(log).toBeVisible();
    await expect(menu).toBeHidden();
    await page.keyboard.press('Escape');
    await expect(log).toBeHidden();
    await expect(button).toBeFocused();

    // Tab leaves the menu and closes it; so does a click elsewhere.
    await page.keyboard.press('Enter');
    await expect(item('Room settings')).toBeFocused();
    await page.keyboard.press('Tab');
    await expect(menu).toBeHidden();
    await button.click();
    await expect(menu).toBeVisible();
    await roomPage.heading(room).click();
    await expect(menu).toBeHidden();
  });
});
