import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageFrame } from '@parley/protocol';
import { presenceText } from './presence-run.ts';
import { countUnread, firstUnread, newestMessageId, Timeline, type TimelineEntry } from './timeline.ts';

const bob = { id: 'u_bob', name: 'Bob' };
const me = { id: 'u_me', name: 'Me' };

function msg(id: string, user = bob): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

const ids = (entries: readonly TimelineEntry[]) =>
  entries.map((e) =>
    e.kind === 'message'
      ? e.message.id
      : e.kind === 'gap'
        ? 'gap'
        : e.kind === 'moderation'
          ? `${e.frame.action} ${e.frame.user.name}`
          : e.kind === 'settings'
            ? `settings ${e.changes.map((c) => c.setting).join(',')}`
            : e.kind === 'webhook'
              ? `webhook ${e.change.kind}`
              : presenceText(e.summary),
  );

function timeline(...messages: MessageFrame[]): Timeline {
  const t = new Timeline();
  t.appendMessages(messages);
  return t;
}

describe('Timeline.appendMessages', () => {
  test('appends in id order, comparing ids numerically, not as strings', () => {
    const t = timeline(msg('10-0'), msg('9-1'), msg('9-0'));
    assert.deepEqual(ids(t.entries), ['9-0', '9-1', '10-0']);
  });

  test('skips messages already held, so a replay after a reconnect shows each once', () => {
    const t = timeline(msg('1-0'), msg('2-0'));
    assert.deepEqual(
      t.appendMessages([msg('2-0'), msg('3-0'), msg('3-0')]).map((m) => m.id),
      ['3-0'],
      'returns what was new',
    );
    assert.deepEqual(ids(t.entries), ['1-0', '2-0', '3-0']);
    assert.deepEqual(t.appendMessages([msg('1-0')]), [], 'nothing new');
  });

  test('puts a late message in its place, after join/leave lines that came before it', () => {
    const t = timeline(msg('1-0'));
    t.addPresence('join', bob, 2);
    t.appendMessages([msg('5-0')]);
    t.appendMessages([msg('3-0')]);
    assert.deepEqual(ids(t.entries), ['1-0', 'Bob joined', '3-0', '5-0']);
  });

  test('merges a page of older messages among newer ones that arrived meanwhile', () => {
    const t = timeline(msg('1-0'));
    t.appendMessages([msg('7-0')]);
    t.addPresence('join', me, 8);
    t.appendMessages([msg('9-0')]);
    t.appendMessages([msg('8-0'), msg('2-0'), msg('10-0'), msg('3-0')]);
    assert.deepEqual(ids(t.entries), ['1-0', '2-0', '3-0', '7-0', 'Me joined', '8-0', '9-0', '10-0']);
  });

  test('never moves a message across a gap marker', () => {
    const t = timeline(msg('100-0'), msg('200-0'));
    t.appendGap();
    // The room started over: smaller ids than before the gap.
    t.appendMessages([msg('5-0'), msg('6-0')]);
    assert.deepEqual(ids(t.entries), ['100-0', '200-0', 'gap', '5-0', '6-0']);
    assert.equal(t.newestMessageId(), '6-0', 'the newest is the last received, to reconnect from');
  });
});

describe('Timeline.insertGapAfter', () => {
  test('splits the log after a message: later messages form the stretch that follows', () => {
    const t = timeline(msg('1-0'), msg('2-0'), msg('50-0'));
    t.insertGapAfter('2-0');
    // A message between 2-0 and 50-0 now goes after the marker, with the stretch it belongs to.
    t.appendMessages([msg('40-0')]);
    assert.deepEqual(ids(t.entries), ['1-0', '2-0', 'gap', '40-0', '50-0']);
  });

  test('goes at the end when the message is the last one or not held', () => {
    const t = timeline(msg('1-0'));
    t.insertGapAfter('1-0');
    t.insertGapAfter('9-9');
    assert.deepEqual(ids(t.entries), ['1-0', 'gap', 'gap']);
  });
});

describe('Timeline.prependMessages', () => {
  test('puts older history first, in order, without duplicates', () => {
    const t = timeline(msg('5-0'), msg('6-0'));
    assert.equal(t.prependMessages([msg('4-0'), msg('3-0'), msg('5-0')]), 2);
    assert.deepEqual(ids(t.entries), ['3-0', '4-0', '5-0', '6-0']);
    assert.equal(t.prependMessages([msg('3-0')]), 0);
    assert.equal(t.oldestMessageId(), '3-0');
  });

  test('keeps the gap marker where it was', () => {
    const t = timeline(msg('5-0'));
    t.appendGap();
    t.appendMessages([msg('1-0')]);
    t.prependMessages([msg('4-0')]);
    t.appendMessages([msg('0-5')]);
    assert.deepEqual(ids(t.entries), ['4-0', '5-0', 'gap', '0-5', '1-0']);
  });
});

describe('Timeline.trimOldest', () => {
  test('keeps the newest entries, cutting before a message; scroll-back brings the rest again', () => {
    const t = timeline(...Array.from({ length: 10 }, (_, i) => msg(`${i + 1}-0`)));
    assert.equal(t.trimOldest(4), 6);
    assert.deepEqual(ids(t.entries), ['7-0', '8-0', '9-0', '10-0']);
    assert.equal(t.oldestMessageId(), '7-0');
    assert.equal(t.message('3-0'), undefined);
    // Forgotten, not remembered as seen: the page before 7-0 goes back in.
    assert.equal(t.prependMessages([msg('5-0'), msg('6-0')]), 2);
    assert.deepEqual(ids(t.entries), ['5-0', '6-0', '7-0', '8-0', '9-0', '10-0']);
    // Positions were re-indexed: a change finds its message.
    assert.equal(t.applyChange({ type: 'edit', id: '9-0', text: 'new', editedTs: 11, eventId: '11-0' })?.text, 'new');
    assert.equal(t.message('9-0')?.text, 'new');
    assert.equal(t.trimOldest(10), 0, 'nothing to trim');
  });

  test('never leaves a join/leave line first, and moves the gap marker with the cut', () => {
    const t = timeline(msg('1-0'), msg('2-0'));
    t.addPresence('join', me, 3);
    t.appendMessages([msg('4-0')]);
    t.appendGap();
    t.appendMessages([msg('1-5'), msg('2-5')]);
    // ['1-0', '2-0', join, '4-0', gap, '1-5', '2-5']: keeping 5 would start at the join line.
    assert.equal(t.trimOldest(5), 3);
    assert.deepEqual(ids(t.entries), ['4-0', 'gap', '1-5', '2-5']);
    // The gap marker still splits the stretches: an older id than the newest goes after it.
    t.appendMessages([msg('1-7')]);
    assert.deepEqual(ids(t.entries), ['4-0', 'gap', '1-5', '1-7', '2-5']);
    // Cut past the gap: the older stretch goes whole.
    assert.equal(t.trimOldest(2), 3);
    assert.deepEqual(ids(t.entries), ['1-7', '2-5']);
    t.appendMessages([msg('1-6')]);
    assert.deepEqual(ids(t.entries), ['1-6', '1-7', '2-5']);
  });
});

describe('Timeline.addPresence', () => {
  const alice = { id: 'u_alice', name: 'Alice' };

  test('consecutive joins and leaves are one line; a message or a gap ends it', () => {
    const t = timeline(msg('1-0'));
    t.addPresence('join', alice, 2);
    t.addPresence('join', bob, 3);
    const line = t.entries.at(-1);
    assert.equal(line?.kind, 'presence');
    t.addPresence('leave', me, 4);
    assert.equal(t.entries.length, 2);
    assert.notEqual(t.entries.at(-1), line, 'the entry is replaced, not changed in place');
    assert.equal(t.entries.at(-1)?.key, line?.key, 'under the same key');
    t.appendMessages([msg('5-0')]);
    t.addPresence('leave', alice, 6);
    t.appendGap();
    t.addPresence('join', alice, 7);
    assert.deepEqual(ids(t.entries), [
      '1-0',
      'Alice and Bob joined, Me left',
      '5-0',
      'Alice left',
      'gap',
      'Alice joined',
    ]);
  });

  test('a late message put before the line does not end it', () => {
    const t = timeline(msg('1-0'), msg('5-0'));
    t.addPresence('join', alice, 6);
    t.appendMessages([msg('3-0')]);
    t.addPresence('join', bob, 7);
    assert.deepEqual(ids(t.entries), ['1-0', '3-0', '5-0', 'Alice and Bob joined']);
  });

  test('a flood of joins and leaves stays one small line, and each costs O(1)', () => {
    const t = timeline(msg('1-0'));
    const array = t.entries;
    for (let i = 0; i < 100_000; i++)
      t.addPresence(i % 3 === 2 ? 'leave' : 'join', { id: `u_${i % 60_000}`, name: `N${i}` }, i);
    assert.equal(t.entries.length, 2);
    const line = t.entries[1];
    assert.ok(line?.kind === 'presence');
    assert.equal(line.summary.people, 60_000);
    assert.ok(line.summary.parts.reduce((n, p) => n + p.named.length, 0) <= 3);
    assert.ok(presenceText(line.summary).length < 200, presenceText(line.summary));
    // Copying the array per frame (as before) took seconds here: it is changed in place.
    assert.equal(t.entries, array, 'the same array, never copied');
  });

  test('appending messages one by one to a long log changes it in place', () => {
    const t = new Timeline();
    const array = t.entries;
    for (let i = 1; i <= 50_000; i++) {
      t.appendMessages([msg(`${i}-0`)]);
      t.hasMessage(`${i}-0`);
      t.newestMessageId();
    }
    assert.equal(t.entries.length, 50_000);
    assert.equal(t.entries, array, 'the same array, never copied');
    assert.equal(t.message('25000-0')?.id, '25000-0');
  });
});

describe('ids and unread', () => {
  const t = timeline(msg('9-0'), msg('10-0', me), msg('11-0'), msg('12-0')).entries;

  test('newest and oldest ids', () => {
    const held = timeline(msg('9-0'), msg('12-0'), msg('11-0'));
    assert.equal(newestMessageId(t), '12-0');
    assert.equal(held.newestMessageId(), '12-0');
    assert.equal(held.oldestMessageId(), '9-0');
    assert.equal(newestMessageId([]), undefined);
    assert.equal(held.hasMessage('11-0'), true);
    assert.equal(held.hasMessage('13-0'), false);
  });

  test("the first unread message is someone else's, after the last one seen", () => {
    assert.equal(firstUnread(t, '9-0', me.id), '11-0');
    assert.equal(firstUnread(t, '12-0', me.id), undefined);
    assert.equal(firstUnread(t, null, me.id), undefined);
    assert.equal(countUnread(t, '9-0', me.id), 2);
    // Nothing seen yet (the room was empty on arrival): every message from others is unread.
    assert.equal(countUnread(t, null, me.id), 3);
  });
});
