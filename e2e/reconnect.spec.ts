import type { WebSocketRoute } from '@playwright/test';
import { expect, test } from './fixtures.ts';
import { startOwnServer, type OwnServer } from './own-server.ts';
import { RECOVERY_PAGE_SIZE } from './test-servers.ts';

test.describe('reconnecting', () => {
  test('going offline shows "reconnecting"; messages typed meanwhile are pending, then sent once', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('offline');
    const { alice, bob } = await openPair(room);

    // In this Chromium, setOffline does not close an open WebSocket (checked: readyState stays
    // OPEN); it flips navigator.onLine and fires `offline`, which the client answers by dropping
    // the socket, as engine.io-client does. The crash test below drops it from the server side.
    await alice.context.setOffline(true);
    await alice.room.expectStatus('reconnecting');
    await expect(alice.room.status).toHaveText(/reconnecting/i);
    await expect(alice.room.reconnecting).toContainText('Connection lost');

    await alice.room.send('typed while offline');
    await alice.room.expectState('typed while offline', 'pending');
    await expect(alice.room.log.getByText('not sent yet')).toBeVisible();
    await expect(bob.room.anyMessage('typed while offline')).toHaveCount(0);

    await alice.context.setOffline(false);
    await alice.room.expectStatus('connected');
    await expect(alice.room.reconnecting).toHaveCount(0);
    await bob.room.expectMessage('typed while offline');
    await alice.room.expectMessage('typed while offline');
    await expect(alice.room.log.getByText('not sent yet')).toHaveCount(0);
    // A later message from Alice arrives after any duplicate would have: there is none.
    await alice.room.send('and one more');
    await bob.room.expectMessage('and one more');
    await expect(bob.room.messageTexts).toHaveText(['typed while offline', 'and one more']);
    await expect(alice.room.messageTexts).toHaveText(['typed while offline', 'and one more']);
  });

  test('a message typed offline survives a reload of the page and is sent once when the server is reachable again', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('reload');
    const { alice, bob } = await openPair(room);

    await alice.context.setOffline(true);
    await alice.room.expectStatus('reconnecting');
    await alice.room.send('typed before a reload');
    await alice.room.expectState('typed before a reload', 'pending');

    // Back online, but the chat server stays out of reach for the reloaded page: its socket
    // opens and nothing comes through (no welcome), until `reachable`.
    let reachable = false;
    const held: WebSocketRoute[] = [];
    await alice.page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      const server = ws.connectToServer();
      if (reachable) return; // connected and forwarded both ways, untouched
      held.push(ws);
      server.onMessage(() => {});
      ws.onMessage(() => {});
    });
    await alice.context.setOffline(false);
    await alice.page.reload();
    await expect.poll(() => held.length).toBeGreaterThan(0);
    await alice.room.expectState('typed before a reload', 'pending');
    await expect(bob.room.anyMessage('typed before a reload')).toHaveCount(0);

    reachable = true;
    for (const ws of held) await ws.close({ code: 1012, reason: 'service restart' });
    await alice.room.expectStatus('connected');
    await bob.room.expectMessage('typed before a reload');
    await alice.room.expectMessage('typed before a reload');
    await alice.room.send('and after it');
    await bob.room.expectMessage('and after it');
    await expect(bob.room.messageTexts).toHaveText(['typed before a reload', 'and after it']);
    await expect(alice.room.messageTexts).toHaveText(['typed before a reload', 'and after it']);
    // Nothing is left to come back after the next reload.
    const kept = await alice.page.evaluate(() =>
      Object.keys(sessionStorage).filter((key) => key.startsWith('parley.outbox.')),
    );
    expect(kept).toEqual([]);
  });

  test('messages others sent while the connection was down all show after the reconnect, once each', async ({
    openPair,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('missed');
    const { alice, bob } = await openPair(room);
    await bob.room.send('before the drop');
    await alice.room.expectMessage('before the drop');

    await alice.context.setOffline(true);
    await alice.room.expectStatus('reconnecting');
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await bob.room.send(text);
    for (const text of missed) await bob.room.expectMessage(text);
    await expect(alice.room.anyMessage('missed one')).toHaveCount(0);

    await alice.context.setOffline(false);
    await alice.room.expectStatus('connected');
    await expect(alice.room.messageTexts).toHaveText(['before the drop', ...missed]);
    await expect(alice.room.gap).toHaveCount(0);
    await bob.room.send('after the reconnect');
    await expect(alice.room.messageTexts).toHaveText(['before the drop', ...missed, 'after the reconnect']);
  });

  test('more missed than one welcome holds is fetched page by page (a 429 waited out): every message once, in order', async ({
    openPerson,
    uniqueRoom,
    seedMessages,
  }) => {
    const room = uniqueRoom('pages');
    const alice = await openPerson('A');
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await seedMessages(room, ['before the drop']);
    await alice.room.expectMessage('before the drop');

    await alice.context.setOffline(true);
    await alice.room.expectStatus('reconnecting');
    // The welcome brings RECOVERY_PAGE_SIZE of them; the rest takes two pages of up to 200.
    const missed = Array.from({ length: RECOVERY_PAGE_SIZE + 200 + 10 }, (_, i) => `missed ${i + 1}`);
    await seedMessages(room, missed);
    const pages: URL[] = [];
    alice.page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname.endsWith('/messages') && url.searchParams.has('after')) pages.push(url);
    });
    // The first request is turned away as over the server's rate, to be asked again a second later.
    let refused = false;
    await alice.page.route(/\/messages\?after=/, async (route) => {
      if (refused) return route.continue();
      refused = true;
      await route.fulfill({
        status: 429,
        headers: { 'retry-after': '1' },
        json: { error: 'rate_limited', message: 'Too many requests.' },
      });
    });

    await alice.context.setOffline(false);
    await alice.room.expectStatus('connected');
    // (The page shows the newest 200 at the bottom: the rest of what was recovered goes in above.)
    await expect(alice.room.messageTexts.last()).toHaveText(missed.at(-1)!, { timeout: 20_000 });
    await alice.room.showAllHeld();
    await expect(alice.room.messageTexts).toHaveText(['before the drop', ...missed], { timeout: 20_000 });
    await expect(alice.room.gap).toHaveCount(0);
    expect(pages.map((url) => url.searchParams.get('limit'))).toEqual(['200', '200', '200']);
    // Each page starts after the last message of the one before; the refused one is asked again.
    const ids = await alice.room.messages.evaluateAll((lines) => lines.map((line) => line.getAttribute('data-id')));
    const [first, second] = [ids[RECOVERY_PAGE_SIZE], ids[RECOVERY_PAGE_SIZE + 200]];
    expect(pages.map((url) => url.searchParams.get('after'))).toEqual([first, first, second]);

    await seedMessages(room, ['after the recovery']);
    await expect(alice.room.messageTexts.last()).toHaveText('after the recovery');
    await expect(alice.room.messages).toHaveCount(missed.length + 2);
  });

  test('a drop while the rest is being fetched reconnects from the last message before the hole, not the newest', async ({
    openPerson,
    uniqueRoom,
    seedMessages,
  }) => {
    const room = uniqueRoom('hole');
    const alice = await openPerson('A');
    const urls: URL[] = [];
    let current: WebSocketRoute | undefined;
    await alice.page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      urls.push(new URL(ws.url()));
      current = ws;
      ws.connectToServer();
    });
    // The first page of the recovery is held until the test lets it go.
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    await alice.page.route(/\/messages\?after=/, async (route) => {
      held += 1;
      await released;
      await route.continue().catch(() => {}); // the page may have given up on it meanwhile
    });
    await alice.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await seedMessages(room, ['before the drop']);
    await alice.room.expectMessage('before the drop');

    await alice.context.setOffline(true);
    await alice.room.expectStatus('reconnecting');
    const missed = Array.from({ length: RECOVERY_PAGE_SIZE + 20 }, (_, i) => `missed ${i + 1}`);
    await seedMessages(room, missed);
    await alice.context.setOffline(false);
    await alice.room.expectStatus('connected');
    await expect.poll(() => held).toBe(1);
    // Live messages keep coming while the hole is open, and show after it.
    await seedMessages(room, ['live during the hole']);
    await expect(alice.room.messageTexts).toHaveText([
      'before the drop',
      ...missed.slice(0, RECOVERY_PAGE_SIZE),
      'live during the hole',
    ]);

    const socketsBefore = urls.length;
    await current?.close({ code: 1012, reason: 'restarting' });
    await alice.room.expectStatus('connected');
    const lastBeforeHole = await alice.room.message(`missed ${RECOVERY_PAGE_SIZE}`).getAttribute('data-id');
    expect(urls.length).toBeGreaterThan(socketsBefore);
    expect(urls[socketsBefore]?.searchParams.get('since')).toBe(lastBeforeHole);
    release();
    await expect(alice.room.messageTexts).toHaveText(['before the drop', ...missed, 'live during the hole']);
    await expect(alice.room.gap).toHaveCount(0);
  });

  test('a reconnect asks for what came after the newest message; a gap the server cannot fill is shown', async ({
    openPerson,
    uniqueRoom,
  }) => {
    const room = uniqueRoom('gap');
    const alice = await openPerson('A');
    const bob = await openPerson('B');
    // Alice's sockets go through a route that can drop the first one and, on later ones,
    // make the server's welcome say that it could not recover what she missed.
    const urls: URL[] = [];
    let firstSocket: WebSocketRoute | undefined;
    await alice.page.routeWebSocket(/\/ws\/chat\//, (ws) => {
      urls.push(new URL(ws.url()));
      const isFirst = urls.length === 1;
      if (isFirst) firstSocket = ws;
      const server = ws.connectToServer();
      server.onMessage((frame) => {
        const text = String(frame);
        if (!isFirst && text.startsWith('{"type":"welcome"'))
          ws.send(JSON.stringify({ ...JSON.parse(text), recovered: false }));
        else ws.send(frame);
      });
    });
    await alice.room.goto(`/chat/${room}/`);
    await bob.room.goto(`/chat/${room}/`);
    await alice.room.expectJoined(room);
    await bob.room.expectJoined(room);
    await bob.room.send('before the drop');
    await alice.room.expectMessage('before the drop');
    const lastId = await alice.room.message('before the drop').getAttribute('data-id');

    await firstSocket?.close({ code: 1012, reason: 'restarting' });
    await alice.room.expectStatus('reconnecting');
    await bob.room.send('during the drop');
    await alice.room.expectStatus('connected');

    const again = urls[1];
    expect(again?.searchParams.get('since')).toBe(lastId);
    // The identity token travels as a subprotocol, never in the URL (which ends up in logs).
    expect(again?.searchParams.has('token')).toBe(false);
    expect(again?.searchParams.get('name')).toBe('Alice');
    await expect(alice.room.gap).toBeVisible();
    await expect(alice.room.gap.locator('xpath=following-sibling::li[1]')).toContainText('during the drop');
    await expect(alice.room.messageTexts).toHaveText(['before the drop', 'during the drop']);
  });

  test.describe('when the server goes away', () => {
    // A server of its own, so that it can be killed without disturbing the other specs. In the
    // redis project it shares the test Redis with the project's instances.
    const port = Number(process.env.PARLEY_E2E_SPARE_PORT ?? 4319);
    const origin = `http://127.0.0.1:${port}`;
    /** Every start of it in this test, the running one last (their output goes with a failure). */
    let starts: OwnServer[] = [];

    async function startServer(redisUrl: string): Promise<void> {
      starts.push(await startOwnServer({ REDIS_URL: redisUrl }, port));
    }

    /** SIGKILL: no goodbye frame, no close handshake; the sockets just drop, as in a crash. */
    async function killServer(): Promise<void> {
      await starts.at(-1)?.stop('SIGKILL');
    }

    test.afterEach(async ({}, testInfo) => {
      await killServer();
      if (testInfo.status !== testInfo.expectedStatus)
        await testInfo.attach('spare server output', {
          body: starts.map((s) => s.output()).join('\n--- restarted ---\n'),
        });
      starts = [];
    });

    test('a crashed server shows "reconnecting", then "connected" again when it is back', async ({
      openPerson,
      uniqueRoom,
      engine,
      redisUrl,
    }) => {
      const room = uniqueRoom('crash');
      await startServer(redisUrl);
      const alice = (await openPerson(origin)).room;
      // With Redis, Bob stays on an instance that does not crash and must hear Alice again.
      const bob = engine === 'redis' ? (await openPerson('B')).room : undefined;

      await alice.goto(`/chat/${room}/`);
      await alice.expectJoined(room);
      if (bob !== undefined) {
        await bob.goto(`/chat/${room}/`);
        await bob.expectJoined(room);
      }
      await alice.send('before the crash');
      await alice.expectMessage('before the crash');
      await bob?.expectMessage('before the crash');

      await killServer();
      await alice.expectStatus('reconnecting');
      await alice.send('during the outage');
      await alice.expectState('during the outage', 'pending');

      await startServer(redisUrl);
      // "Try now" skips the rest of the backoff, unless a retry got there first (then the
      // banner, button and all, is already gone).
      await alice.reconnecting
        .getByRole('button', { name: 'Try now' })
        .click({ timeout: 2_000 })
        .catch(() => expect(alice.reconnecting).toHaveCount(0));
      // An attempt under way at the click may still fail: allow a full backoff (10 s) and start-up.
      await expect(alice.status).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });
      await alice.expectMessage('during the outage');
      await bob?.expectMessage('during the outage');
      await alice.send('after the restart');
      await alice.expectMessage('after the restart');
      await bob?.expectMessage('after the restart');
      // What was on screen before the crash is kept.
      await alice.expectMessage('before the crash');
    });
  });
});
