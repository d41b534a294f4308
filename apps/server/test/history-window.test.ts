import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sinceIsRecoverable } from '../src/engine/history-window.ts';

// Ids as the log makes them: <ms>-<seq>.
const first = '1000-0';
const last = '5000-0';

test('a since is recovered only from this life of the log, after anything trimmed', () => {
  // Nothing trimmed: from the first entry on, and 0-0 ("seen nothing").
  assert.equal(sinceIsRecoverable('1000-0', undefined, last, first), true);
  assert.equal(sinceIsRecoverable('3000-1', undefined, last, first), true);
  assert.equal(sinceIsRecoverable('5000-0', undefined, last, first), true);
  assert.equal(sinceIsRecoverable('0-0', undefined, last, first), true);
  // Before the first entry of a log that never lost one: from an earlier life of the room.
  assert.equal(sinceIsRecoverable('999-5', undefined, last, first), false);
  // From the future (the room started over after it), or with no log at all.
  assert.equal(sinceIsRecoverable('5000-1', undefined, last, first), false);
  assert.equal(sinceIsRecoverable('3000-0', undefined, undefined, undefined), false);
  // Trimmed: from the newest trimmed id on; 0-0 has missed what was trimmed.
  assert.equal(sinceIsRecoverable('2000-0', '2000-0', last, '2001-0'), true);
  assert.equal(sinceIsRecoverable('1999-0', '2000-0', last, '2001-0'), false);
  assert.equal(sinceIsRecoverable('0-0', '2000-0', last, '2001-0'), false);
});
