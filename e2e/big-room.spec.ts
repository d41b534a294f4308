import { expect, test } from './fixtures.ts';
import { openGuests } from './guests.ts';
import { startOwnServer } from './own-server.ts';

// A big room against a real server, scaled down: the spec's own server lists at most 10 people
// in a welcome and sends counts instead of joins and leaves above 30 people, and 40 guests are
// there before Alice. The web app must count everyone, list who the welcome named, load the rest
// from the member pages on request, and keep counting (not listing) who comes and goes.
// (presence.spec.ts tests the list's virtual scrolling with 2,000 made-up people.)

const WELCOME_MEMBERS = 10;
const COUNT_ONLY_ABOVE = 30;

test.describe('a big room', () => {
  test('the header counts everyone, the list loads the rest of the people on request, a search finds anyone, and arrivals are counted', async ({
    browser,
    openPerson,
    uniqueRoom,
    redisUrl,
  }, testInfo) => {
    test.setTimeout(90_000);
    // In the redis project it uses the project's test Redis (member pages come from HSCAN there).
    const server = await startOwnServer({
      REDIS_URL: redisUrl,
      WELCOME_MEMBERS_MAX: String(WELCOME_MEMBERS),
      PRESENCE_COUNT_ONLY_MEMBERS: String(COUNT_ONLY_ABOVE),
    });
    try {
      const room = uniqueRoom('big');
      const guestContext = await browser.newContext({ baseURL: server.origin });
      const guests = await guestContext.newPage();
      await guests.goto('/healthz');
      await guests.evaluate(openGuests, { room, count: 40 });

      const alice = (await openPerson(server.origin)).room;
      await alice.goto(`/chat/${room}/`);
      await alice.expectJoined(room);
      await expect(alice.membersToggle).toHaveText(/\b41\b/);
      if (!(await alice.memberList.isVisible())) await alice.membersToggle.click();

      // The welcome named a few; the list says so and offers the rest.
      const partial = alice.page.getByTestId('members-partial');
      await expect(partial).toContainText(/Showing \d+ of 41\./);
      const listed = await alice.members.count();
      expect(listed).toBeGreaterThan(0);
      expect(listed).toBeLessThanOrEqual(WELCOME_MEMBERS + 1);
      await partial.getByRole('button', { name: 'Show everyone' }).click();
      // Everyone now; in a room this big joins and leaves are counted, not listed, so the list
      // is a snapshot.
      await expect(partial).toContainText('The list may be out of date in a room this big.');
      const search = alice.page.getByRole('searchbox', { name: 'Find someone in this room' });
      for (const guest of ['Guest 1', 'Guest 23', 'Guest 40']) {
        await search.fill(guest.toLowerCase());
        await expect(alice.member(guest)).toHaveCount(1);
      }
      await search.fill('');

      // Five more come and one goes: the header counts them, the list offers them.
      await guests.evaluate(openGuests, { room, count: 5, first: 41 });
      await expect(alice.membersToggle).toHaveText(/\b46\b/);
      await guests.evaluate(() => (window as unknown as { guests: WebSocket[] }).guests[0]!.close());
      await expect(alice.membersToggle).toHaveText(/\b45\b/);
      await expect(partial).toContainText('Showing 41 of 45.');
      await partial.getByRole('button', { name: 'Show everyone' }).click();
      await expect(partial).toContainText('The list may be out of date in a room this big.');
      await search.fill('guest 45');
      await expect(alice.member('Guest 45')).toHaveCount(1);
      await search.fill('guest 1');
      await expect(alice.member('Guest 10')).toHaveCount(1);
      await expect(alice.member('Guest 1')).toHaveCount(0);
      await guestContext.close();
    } catch (err) {
      await testInfo.attach('big-room server output', { body: server.output() });
      throw err;
    } finally {
      await server.stop();
    }
  });
});
