import {
  test as base,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from '@playwright/test';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LobbyPage } from './pages/lobby-page.ts';
import { RoomPage } from './pages/room-page.ts';

/** The repository's top folder. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Set per project in playwright.config.ts. */
export interface ParleyOptions {
  /** Origin of the server person A (and anyone not told otherwise) uses. */
  serverA: string;
  /** Origin of the server person B uses; another instance in the `redis` project. */
  serverB: string;
  /** Which engine the project's servers run. */
  engine: 'memory' | 'redis';
  /** The test Redis the project's servers use; '' for the in-memory engine. */
  redisUrl: string;
}

/** One person: their own browser context (cookies, storage, socket) and page objects. */
export interface Person {
  /** The display name the browser remembers, or `null` for someone who never chose one. */
  name: string | null;
  context: BrowserContext;
  page: Page;
  lobby: LobbyPage;
  room: RoomPage;
}

export interface PersonOptions {
  /** The display name already remembered by the browser; `null` for none. Default: Alice, Bob… */
  name?: string | null;
}

export interface ParleyFixtures {
  lobbyPage: LobbyPage;
  roomPage: RoomPage;
  /**
   * Opens a new person on server A, server B or any other origin; their browser contexts are
   * closed after the test.
   */
  openPerson: (server?: 'A' | 'B' | (string & {}), options?: PersonOptions) => Promise<Person>;
  /**
   * The usual start of a conversation: Alice on server A and Bob on server B, both in `room`
   * and welcomed, so what one sends the other must see (across instances with Redis).
   */
  openPair: (room: string) => Promise<{ alice: Person; bob: Person }>;
  /** A room name no other test (or earlier run against the same Redis) uses. */
  uniqueRoom: (prefix?: string) => string;
  /**
   * Posts messages to a room straight over the protocol (server A, one author), each stored
   * before the next is sent, and leaves again: history for others to find.
   */
  seedMessages: (room: string, texts: readonly string[], author?: string) => Promise<void>;
}

const NAMES = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank'];

/** The localStorage key the app keeps the display name under (see apps/web client-storage.ts). */
export const NAME_KEY = 'parley.name';

/** Makes a browser remember a display name, as if it had been typed in the lobby before. */
export async function rememberName(context: BrowserContext, name: string): Promise<void> {
  // Runs before every page load; only fills in a name, never overwrites one chosen since.
  await context.addInitScript(
    ([key, value]) => {
      if (window.localStorage.getItem(key) === null) window.localStorage.setItem(key, value);
    },
    [NAME_KEY, name] as const,
  );
}

async function newPerson(
  browser: Browser,
  options: BrowserContextOptions,
  name: string | null,
  violations: string[],
): Promise<Person> {
  const context = await browser.newContext(options);
  if (name !== null) await rememberName(context, name);
  const page = await context.newPage();
  watchForCspViolations(page, violations);
  return { name, context, page, lobby: new LobbyPage(page), room: new RoomPage(page) };
}

/** Collects the page's Content Security Policy violations (Chromium reports them on the console). */
function watchForCspViolations(page: Page, violations: string[]): void {
  page.on('console', (message) => {
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
}

/** Fails the test when the app broke the server's Content Security Policy anywhere. */
function assertNoCspViolations(violations: string[]): void {
  if (violations.length > 0) throw new Error(`Content Security Policy violations:\n${violations.join('\n')}`);
}

export const test = base.extend<ParleyFixtures, ParleyOptions>({
  serverA: ['http://127.0.0.1:4310', { option: true, scope: 'worker' }],
  serverB: ['http://127.0.0.1:4310', { option: true, scope: 'worker' }],
  engine: ['memory', { option: true, scope: 'worker' }],
  redisUrl: ['', { option: true, scope: 'worker' }],

  // The default page belongs to someone who chose a name before.
  context: async ({ context }, use) => {
    await rememberName(context, 'Pat');
    await use(context);
  },

  page: async ({ page }, use) => {
    const violations: string[] = [];
    watchForCspViolations(page, violations);
    await use(page);
    assertNoCspViolations(violations);
  },

  lobbyPage: async ({ page }, use) => {
    await use(new LobbyPage(page));
  },

  roomPage: async ({ page }, use) => {
    await use(new RoomPage(page));
  },

  openPerson: async ({ browser, serverA, serverB, viewport, isMobile, hasTouch, deviceScaleFactor }, use) => {
    const contexts: BrowserContext[] = [];
    const violations: string[] = [];
    await use(async (server = 'A', options = {}) => {
      const baseURL = server === 'A' ? serverA : server === 'B' ? serverB : server;
      // The project's device settings (the phone project's small screen) apply to everyone.
      const contextOptions: BrowserContextOptions = { baseURL, viewport, isMobile, hasTouch, deviceScaleFactor };
      const name =
        options.name === undefined ? (NAMES[contexts.length] ?? `Person ${contexts.length + 1}`) : options.name;
      const person = await newPerson(browser, contextOptions, name, violations);
      contexts.push(person.context);
      return person;
    });
    await Promise.all(contexts.map((c) => c.close()));
    assertNoCspViolations(violations);
  },

  openPair: async ({ openPerson }, use) => {
    await use(async (room) => {
      const alice = await openPerson('A');
      const bob = await openPerson('B');
      await alice.room.goto(`/chat/${room}/`);
      await bob.room.goto(`/chat/${room}/`);
      await alice.room.expectJoined(room);
      await bob.room.expectJoined(room);
      return { alice, bob };
    });
  },

  seedMessages: async ({ browser, serverA }, use) => {
    const context = await browser.newContext({ baseURL: serverA });
    const page = await context.newPage();
    // Any page of the server's own origin may open its sockets.
    await page.goto('/healthz');
    await use((room, texts, author = 'Seeder') => page.evaluate(postMessages, { room, texts: [...texts], author }));
    await context.close();
  },

  uniqueRoom: async ({}, use, testInfo) => {
    let n = 0;
    const run = Date.now().toString(36);
    await use((prefix = 'room') => `${prefix}_${run}_${testInfo.repeatEachIndex}${testInfo.retry}_${n++}`);
  },
});

// Runs in the page. Fresh sockets every few messages stay within the per-connection rate limit.
async function postMessages({ room, texts, author }: { room: string; texts: string[]; author: string }): Promise<void> {
  const PER_SOCKET = 15;
  const url = `ws://${location.host}/ws/chat/${encodeURIComponent(room)}/?name=${encodeURIComponent(author)}`;
  for (let start = 0; start < texts.length; start += PER_SOCKET) {
    const socket = new WebSocket(url, ['parley.v1']);
    const frames: { type: string; message?: string }[] = [];
    let wake: () => void = () => {};
    socket.onmessage = (event) => {
      frames.push(JSON.parse(String(event.data)) as { type: string });
      wake();
    };
    socket.onclose = () => wake();
    const next = async (): Promise<{ type: string; message?: string }> => {
      while (frames.length === 0) {
        if (socket.readyState === WebSocket.CLOSED) throw new Error('the seeding socket closed');
        await new Promise<void>((resolve) => (wake = resolve));
      }
      return frames.shift()!;
    };
    const expectFrame = async (type: string) => {
      for (;;) {
        const frame = await next();
        if (frame.type === type) return;
        if (frame.type === 'error') throw new Error(`seeding refused: ${frame.message}`);
      }
    };
    await expectFrame('welcome');
    for (const [i, text] of texts.slice(start, start + PER_SOCKET).entries()) {
      socket.send(JSON.stringify({ type: 'message', text, clientMsgId: `seed-${start + i}` }));
      await expectFrame('ack');
    }
    socket.close();
  }
}

export { expect } from '@playwright/test';
