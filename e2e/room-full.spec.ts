import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Locator } from '@playwright/test';
import { expect, repoRoot, test, type Person } from './fixtures.ts';
import { TEST_SERVER_ENV } from './test-servers.ts';

// An invite-only room that has let in as many people as it keeps (ROOM_ADMITTED_MAX): a newcomer
// with a valid invite gets the "This room is full" screen, while the owner and whoever was let in
// already still come in. The project's servers share one configuration, so this spec starts a
// server of its own (in-memory engine) that lets one person in per room.

/** A TCP port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
}

/** Opens the owner's settings dialog from the header. */
async function openSettings(person: Person): Promise<Locator> {
  await person.page.getByRole('button', { name: 'Room settings' }).click();
  const dialog = person.page.getByRole('dialog', { name: 'Room settings' });
  await expect(dialog).toBeVisible();
  return dialog;
}

test.describe('a full invite-only room', () => {
  // The server is the spec's own; running it again in the redis project would test nothing more.
  test.skip(({ engine }) => engine !== 'memory', 'starts its own in-memory server');

  let server: ChildProcess | undefined;
  let origin = '';
  let output = '';

  test.beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const child = spawn(process.execPath, [resolve(repoRoot, 'apps/server/dist/server.js')], {
      cwd: repoRoot,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        // Empty: the in-memory engine, even if the caller's shell sets REDIS_URL.
        REDIS_URL: '',
        LOG_LEVEL: 'warn',
        ...TEST_SERVER_ENV,
        WEB_DIST_DIR: resolve(repoRoot, 'apps/web/dist'),
        ROOM_ADMITTED_MAX: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server = child;
    await expect
      .poll(
        async () =>
          fetch(`${origin}/readyz`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 15_000 },
      )
      .toBe(200)
      .catch((err: unknown) => {
        throw new Error(`the room-full server on port ${port} did not become ready; its output:\n${output}`, {
          cause: err,
        });
      });
  });

  test.afterAll(async () => {
    const child = server;
    server = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });

  test.afterEach(async ({}, testInfo) => {
    if (testInfo.status !== testInfo.expectedStatus) await testInfo.attach('room-full server output', { body: output });
  });

  test('past ROOM_ADMITTED_MAX a newcomer with a valid invite sees "This room is full"; the owner and those let in still come in', async ({
    openPerson,
    uniqueRoom,
  }) => {
    test.setTimeout(60_000);
    const room = uniqueRoom('full');
    const olga = await openPerson(origin, { name: 'Olga' });
    await olga.room.goto(`/chat/${room}/`);
    await olga.room.expectJoined(room);
    // The first to post owns the room.
    await olga.room.send('Only one guest fits');

    // Invite-only, and a link.
    let dialog = await openSettings(olga);
    await dialog.getByRole('checkbox', { name: 'Invite-only' }).check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog).toBeHidden();
    await expect(olga.room.log.getByTestId('settings-line').last()).toContainText('Olga made the room invite-only');
    dialog = await openSettings(olga);
    const invite = dialog.getByTestId('invite-link');
    await invite.getByRole('button', { name: 'Create link' }).click();
    const field = invite.getByRole('textbox', { name: 'Link to share' });
    await expect(field).toHaveValue(/\?invite=.+/);
    const link = new URL(await field.inputValue());
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();

    // The first guest with the link comes in: the room has let in one person, its most.
    const bruno = await openPerson(origin, { name: 'Bruno' });
    await bruno.room.goto(`${link.pathname}${link.search}`);
    await bruno.room.expectJoined(room);
    await bruno.room.expectMessage('Only one guest fits');

    // The next one, with the same valid link: the room is full, and there is no message box.
    const chiara = await openPerson(origin, { name: 'Chiara' });
    await chiara.room.goto(`${link.pathname}${link.search}`);
    const screen = chiara.page.getByTestId('removed');
    await expect(screen).toHaveAttribute('data-kind', 'room_full');
    await expect(screen.getByRole('heading')).toHaveText('This room is full');
    await expect(screen.getByRole('heading')).toBeVisible();
    await expect(screen).toContainText(`${room} is invite-only and has let in as many people as it can`);
    await expect(screen.getByRole('link', { name: 'Go to the lobby' })).toBeVisible();
    await chiara.room.expectStatus('closed');
    await expect(chiara.room.messageInput).toHaveCount(0);
    await expect(chiara.room.messages).toHaveCount(0);

    // The owner, after a reload, and the guest let in already, without the link, still come in.
    await olga.page.reload();
    await olga.room.expectJoined(room);
    await olga.room.expectMessage('Only one guest fits');
    await bruno.room.goto(`/chat/${room}/`);
    await bruno.room.expectJoined(room);
    await bruno.room.send('Still here');
    await olga.room.expectMessage('Still here');
  });
});
