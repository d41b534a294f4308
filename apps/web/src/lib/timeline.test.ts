import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageFrame } from '@parley/protocol';
import {
  appendEntry,
  appendMessages,
  countUnread,
  firstUnread,
  hasMessage,
  newestMessageId,
  oldestMessageId,
  prependMessages,
  type TimelineEntry,
} from './timeline.ts';

const bob = { id: 'u_bob', name: 'Bob' };
const me = { id: 'u_me', name: 'Me' };

function msg(id: string, user = bob): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

const ids = (entries: readonly TimelineEntry[]) =>
  entries.map((e) => (e.kind === 'message' ? e.message.id : e.kind === 'gap' ? 'gap' : `${e.action}:${e.user.name}`));

describe('appendMessages', () => {
  test('appends in id order, comparing ids numerically, not as strings', () => {
    const t = appendMessages([], [msg('10-0'), msg('9-1'), msg('9-0')]);
    assert.deepEqual(ids(t), ['9-0', '9-1', '10-0']);
  });

  test('skips messages already held, so a replay after a reconnect shows each once', () => {
    const t1 = appendMessages([], [msg('1-0'), msg('2-0')]);
    const t2 = appendMessages(t1, [msg('2-0'), msg('3-0'), msg('3-0')]);
    assert.deepEqual(ids(t2), ['1-0', '2-0', '3-0']);
    assert.equal(appendMessages(t2, [msg('1-0')]), t2, 'unchanged array when nothing is new');
  });

  test('puts a late message in its place, after join/leave lines that came before it', () => {
    let t = appendMessages([], [msg('1-0')]);
    t = appendEntry(t, { kind: 'presence', key: 'p1', action: 'join', user: bob, ts: 2 });
    t = appendMessages(t, [msg('5-0')]);
    t = appendMessages(t, [msg('3-0')]);
    assert.deepEqual(ids(t), ['1-0', 'join:Bob', '3-0', '5-0']);
  });

  test('never moves a message across a gap marker', () => {
    let t = appendMessages([], [msg('100-0'), msg('200-0')]);
    t = appendEntry(t, { kind: 'gap', key: 'g1' });
    // The room started over: smaller ids than before the gap.
    t = appendMessages(t, [msg('5-0'), msg('6-0')]);
    assert.deepEqual(ids(t), ['100-0', '200-0', 'gap', '5-0', '6-0']);
    assert.equal(newestMessageId(t), '6-0', 'the newest is the last received, to reconnect from');
  });
});

describe('prependMessages', () => {
  test('puts older history first, in order, without duplicates', () => {
    const t = appendMessages([], [msg('5-0'), msg('6-0')]);
    const more = prependMessages(t, [msg('4-0'), msg('3-0'), msg('5-0')]);
    assert.deepEqual(ids(more), ['3-0', '4-0', '5-0', '6-0']);
    assert.equal(prependMessages(more, [msg('3-0')]), more);
  });
});

describe('ids and unread', () => {
  const t = appendMessages([], [msg('9-0'), msg('10-0', me), msg('11-0'), msg('12-0')]);

  test('newest and oldest ids', () => {
    assert.equal(newestMessageId(t), '12-0');
    assert.equal(oldestMessageId(t), '9-0');
    assert.equal(newestMessageId([]), undefined);
    assert.equal(hasMessage(t, '11-0'), true);
    assert.equal(hasMessage(t, '13-0'), false);
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
