import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageFrame, User } from '@parley/protocol';
import { buildRows, type LogRow } from './grouping.ts';
import type { OutboxItem } from './outbox.ts';
import { appendEntry, appendMessages } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const bob: User = { id: 'u_bob', name: 'Bob' };
const minute = 60_000;

function msg(id: string, user: User, ts: number): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts };
}

const shape = (rows: LogRow[]) =>
  rows.map((r) =>
    r.kind === 'group' ? `${r.mine ? '*' : ''}${r.user.name}[${r.items.map((i) => i.id ?? i.clientMsgId).join(',')}]` : r.kind,
  );

describe('buildRows', () => {
  test('groups consecutive messages by the same person within the window', () => {
    const t = appendMessages(
      [],
      [msg('1-0', bob, 0), msg('2-0', bob, minute), msg('3-0', me, 2 * minute), msg('4-0', bob, 3 * minute), msg('5-0', bob, 20 * minute)],
    );
    assert.deepEqual(shape(buildRows(t, [], { me, myName: 'Me' })), ['Bob[1-0,2-0]', '*Me[3-0]', 'Bob[4-0]', 'Bob[5-0]']);
  });

  test('join/leave lines, gaps and the divider break groups', () => {
    let t = appendMessages([], [msg('1-0', bob, 0)]);
    t = appendEntry(t, { kind: 'presence', key: 'p1', action: 'join', user: me, ts: 1 });
    t = appendMessages(t, [msg('2-0', bob, 2), msg('3-0', bob, 3)]);
    t = appendEntry(t, { kind: 'gap', key: 'g1' });
    t = appendMessages(t, [msg('4-0', bob, 4)]);
    const rows = buildRows(t, [], { me, myName: 'Me', dividerBefore: '3-0' });
    assert.deepEqual(shape(rows), ['Bob[1-0]', 'presence', 'Bob[2-0]', 'divider', 'Bob[3-0]', 'gap', 'Bob[4-0]']);
  });

  test('the outbox follows as the reader’s own, joining their last group', () => {
    const t = appendMessages([], [msg('1-0', me, 0)]);
    const outbox: OutboxItem[] = [
      { clientMsgId: 'c1', text: 'a', createdAt: 1_000, state: 'sending' },
      { clientMsgId: 'c2', text: 'b', createdAt: 2_000, state: 'failed', error: 'nope' },
    ];
    const rows = buildRows(t, outbox, { me, myName: 'Me' });
    assert.deepEqual(shape(rows), ['*Me[1-0,c1,c2]']);
    const group = rows[0];
    assert.ok(group?.kind === 'group');
    assert.deepEqual(group.items.map((i) => i.state), ['delivered', 'sending', 'failed']);
    assert.equal(group.items[2]?.error, 'nope');
  });

  test('before the first welcome, the outbox is still marked as the reader’s', () => {
    const rows = buildRows([], [{ clientMsgId: 'c1', text: 'a', createdAt: 1, state: 'pending' }], { me: null, myName: 'Me' });
    assert.deepEqual(shape(rows), ['*Me[c1]']);
  });

  test('group keys stay the same as messages are added', () => {
    const t1 = appendMessages([], [msg('1-0', bob, 0)]);
    const t2 = appendMessages(t1, [msg('2-0', bob, 1)]);
    assert.equal(buildRows(t1, [], { me, myName: 'Me' })[0]?.key, buildRows(t2, [], { me, myName: 'Me' })[0]?.key);
  });
});
