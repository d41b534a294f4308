import { test as base, type Browser, type BrowserContext, type Page } from '@playwright/test';
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
  context: BrowserContext;
  page: Page;
  lobby: LobbyPage;
  room: RoomPage;
}

export interface ParleyFixtures {
  lobbyPage: LobbyPage;
  roomPage: RoomPage;
  /**
   * Opens a new person on server A, server B or any other origin; their browser contexts are
   * closed after the test.
   */
  openPerson: (server?: 'A' | 'B' | (string & {})) => Promise<Person>;
  /** A room name no other test (or earlier run against the same Redis) uses. */
  uniqueRoom: (prefix?: string) => string;
}

async function newPerson(browser: Browser, baseURL: string): Promise<Person> {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  return { context, page, lobby: new LobbyPage(page), room: new RoomPage(page) };
}

export const test = base.extend<ParleyFixtures, ParleyOptions>({
  serverA: ['http://127.0.0.1:4310', { option: true, scope: 'worker' }],
  serverB: ['http://127.0.0.1:4310', { option: true, scope: 'worker' }],
  engine: ['memory', { option: true, scope: 'worker' }],
  redisUrl: ['', { option: true, scope: 'worker' }],

  lobbyPage: async ({ page }, use) => {
    await use(new LobbyPage(page));
  },

  roomPage: async ({ page }, use) => {
    await use(new RoomPage(page));
  },

  openPerson: async ({ browser, serverA, serverB }, use) => {
    const contexts: BrowserContext[] = [];
    await use(async (server = 'A') => {
      const person = await newPerson(browser, server === 'A' ? serverA : server === 'B' ? serverB : server);
      contexts.push(person.context);
      return person;
    });
    await Promise.all(contexts.map((c) => c.close()));
  },

  uniqueRoom: async ({}, use, testInfo) => {
    let n = 0;
    const run = Date.now().toString(36);
    await use((prefix = 'room') => `${prefix}_${run}_${testInfo.repeatEachIndex}${testInfo.retry}_${n++}`);
  },
});

export { expect } from '@playwright/test';
