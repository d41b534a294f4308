/**
 * Which WebSocket class the client uses: the one given, else the platform's, else (the Node entry
 * only) `ws`'s. The browser entry has no path to `ws`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { resolveWebSocket, type WebSocketConstructor } from '../../src/index.ts';
import * as browser from '../../src/browser.ts';

/** Runs `body` as on Node 20, where there is no WebSocket global. */
async function withoutPlatformWebSocket(body: () => Promise<void>): Promise<void> {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
  delete (globalThis as { WebSocket?: unknown }).WebSocket;
  try {
    await body();
  } finally {
    if (descriptor !== undefined) Object.defineProperty(globalThis, 'WebSocket', descriptor);
  }
}

test('the class given wins; else the platform one', async () => {
  const given = class {} as unknown as WebSocketConstructor;
  assert.equal(await resolveWebSocket(given), given);
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (platform !== undefined) assert.equal(await resolveWebSocket(undefined), platform);
});

test("with no platform WebSocket the Node entry loads ws's", async () => {
  await withoutPlatformWebSocket(async () => {
    assert.equal(await resolveWebSocket(undefined), WebSocket);
  });
});

test('the browser entry exports the same names as the Node entry', async () => {
  const node = await import('../../src/index.ts');
  assert.deepEqual(Object.keys(browser).sort(), Object.keys(node).sort());
});

test('nothing the browser entry imports, however indirectly, imports ws', () => {
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const target = match[1]!;
      if (target.startsWith('.')) visit(resolve(dirname(file), target));
      else packages.add(target);
    }
  };
  visit(fileURLToPath(new URL('../../src/browser.ts', import.meta.url)));
  assert.ok(seen.size > 10, 'the walk follows the imports');
  assert.deepEqual([...packages].sort(), ['@parley/protocol']);
});
