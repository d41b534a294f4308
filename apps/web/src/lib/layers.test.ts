/**
 * The folders of lib/ import one another in one direction only: room/ (one room) builds on app/
 * (what the whole app shares: routing, the server's URL and API, what the browser remembers) and
 * ui/ (helpers of the views); app/ builds on ui/; ui/ on nothing of lib/. Nothing in lib/ imports
 * a component or a view. Below them all is @parley/client (the socket, the HTTP requests, the
 * recovery's page loop), which room/ and app/ use and ui/ does not: the views' helpers talk to
 * no server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const lib = dirname(fileURLToPath(import.meta.url));

/** What each folder may import from lib/ besides itself. */
const ALLOWED: Record<string, readonly string[]> = {
  room: ['app', 'ui'],
  app: ['ui'],
  ui: [],
};

/** The folders that may use @parley/client. */
const CLIENT_USERS: readonly string[] = ['room', 'app'];

/** Every import of every module under lib/, as [importing file, imported path or package], files relative to lib/. */
function imports(): [string, string][] {
  const found: [string, string][] = [];
  for (const file of readdirSync(lib, { recursive: true }).map(String)) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(lib, file), 'utf8');
    for (const match of text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      const target = match[1]!;
      found.push([
        file,
        target.startsWith('.') ? relative(lib, resolve(lib, dirname(file), target)) : `package:${target}`,
      ]);
    }
  }
  return found;
}

describe('lib/ layers', () => {
  test('every module lives in a folder of its concern', () => {
    const loose = readdirSync(lib).filter((f) => f.endsWith('.ts') && f !== 'layers.test.ts');
    assert.deepEqual(loose, []);
    assert.deepEqual(
      readdirSync(lib, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort(),
      Object.keys(ALLOWED).sort(),
    );
  });

  test('room/ builds on app/ and ui/, app/ on ui/, ui/ on nothing; nothing imports a view', () => {
    const found = imports().filter(([, target]) => !target.startsWith('package:'));
    assert.ok(found.length > 20, 'the scan finds the imports');
    const wrong = found.filter(([file, target]) => {
      const from = file.split('/')[0]!;
      const to = target.split('/')[0]!;
      return target.startsWith('..') || (to !== from && !ALLOWED[from]?.includes(to));
    });
    assert.deepEqual(wrong, []);
  });

  test('@parley/client is used by room/ and app/ only', () => {
    const users = imports().filter(([, target]) => target === 'package:@parley/client');
    assert.ok(users.length > 3, 'the scan finds the client');
    assert.deepEqual(
      users.filter(([file]) => !CLIENT_USERS.includes(file.split('/')[0]!)),
      [],
    );
  });
});
