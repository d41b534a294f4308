import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageFrame, User } from '@parley/protocol';
import { buildRows, type LogRow } from './grouping.ts';
import type { OutboxItem } from './outbox.ts';
import { Timeline } from './timeline.ts';

function timeline(...messages: MessageFrame[]): Timeline {
  const t = new Timeline();
  t.appendMessages(messages);
  return t;
}

const me: User = { id: 'u_me', name: 'Me' };
const bob: User = { id: 'u_bob', name: 'Bob' };
const minute = 60_000;

function msg(id: string, user: User, ts: number): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts };
}

const shape = (rows: LogRow[]) =>
  rows.map((r) =>
    r.kind === 'group'
      ? `${r.mine ? '*' : ''}${r.user.name}[${r.items.map((i) => i.id ?? i.clientMsgId).join(',')}]`
      : r.kind,
  );

describe('buildRows', () => {
  test('groups consecutive messages by the same person within the window', () => {
    const t = timeline(
      msg('1-0', bob, 0),
      msg('2-0', bob, minute),
      msg('3-0', me, 2 * minute),
      msg('4-0', bob, 3 * minute),
      msg('5-0', bob, 20 * minute),
    );
    assert.deepEqual(shape(buildRows(t.entries, [], { me, myName: 'Me' })), [
      'Bob[1-0,2-0]',
      '*Me[3-0]',
      'Bob[4-0]',
      'Bob[5-0]',
    ]);
  });

  test('join/leave lines, gaps and the divider break groups', () => {
    const t = timeline(msg('1-0', bob, 0));
    t.addPresence('join', me, 1);
    t.appendMessages([msg('2-0', bob, 2), msg('3-0', bob, 3)]);
    t.appendGap();
    t.appendMessages([msg('4-0', bob, 4)]);
    const rows = buildRows(t.entries, [], { me, myName: 'Me', dividerBefore: '3-0' });
    assert.deepEqual(shape(rows), ['Bob[1-0]', 'presence', 'Bob[2-0]', 'divider', 'Bob[3-0]', 'gap', 'Bob[4-0]']);
  });

  test('the outbox follows as the reader’s own, joining their last group', () => {
    const t = timeline(msg('1-0', me, 0)).entries;
    const outbox: OutboxItem[] = [
      { clientMsgId: 'c1', text: 'a', createdAt: 1_000, state: 'sending' },
      { clientMsgId: 'c2', text: 'b', createdAt: 2_000, state: 'failed', error: 'nope' },
    ];
    const rows = buildRows(t, outbox, { me, myName: 'Me' });
    assert.deepEqual(shape(rows), ['*Me[1-0,c1,c2]']);
    const group = rows[0];
    assert.ok(group?.kind === 'group');
    assert.deepEqual(
      group.items.map((i) => i.state),
      ['delivered', 'sending', 'failed'],
    );
    assert.equal(group.items[2]?.error, 'nope');
  });

  test('before the first welcome, the outbox is still marked as the reader’s', () => {
    const rows = buildRows([], [{ clientMsgId: 'c1', text: 'a', createdAt: 1, state: 'pending' }], {
      me: null,
      myName: 'Me',
    });
    assert.deepEqual(shape(rows), ['*Me[c1]']);
  });

  test('group keys stay the same as messages are added', () => {
    const t = timeline(msg('1-0', bob, 0));
    const before = buildRows(t.entries, [], { me, myName: 'Me' })[0]?.key;
    t.appendMessages([msg('2-0', bob, 1)]);
    assert.equal(buildRows(t.entries, [], { me, myName: 'Me' })[0]?.key, before);
  });

  test('rows that did not change are the same objects as in the last call', () => {
    const t = timeline(msg('1-0', bob, 0), msg('2-0', me, 1), msg('3-0', bob, 2));
    const outbox: OutboxItem[] = [{ clientMsgId: 'c1', text: 'a', createdAt: 3, state: 'sending' }];
    const first = buildRows(t.entries, outbox, { me, myName: 'Me' });
    t.addPresence('join', { id: 'u_carol', name: 'Carol' }, 4);
    const second = buildRows(t.entries, outbox, { me, myName: 'Me' }, first);
    assert.deepEqual(shape(second), ['Bob[1-0]', '*Me[2-0]', 'Bob[3-0]', 'presence', '*Me[c1]']);
    assert.equal(second[0], first[0]);
    assert.equal(second[1], first[1]);
    assert.equal(second[2], first[2]);
    assert.equal(second[4], first[3], 'the outbox group too');
    // A group whose items changed is new; its unchanged items are not.
    const third = buildRows(t.entries, [{ ...outbox[0]!, state: 'sent', id: '5-0' }], { me, myName: 'Me' }, second);
    assert.notEqual(third[4], second[4]);
    t.appendMessages([msg('4-0', bob, 3)]);
    const fourth = buildRows(t.entries, [], { me, myName: 'Me' }, third);
    assert.equal(fourth[3], third[3], 'the presence line');
    assert.equal(fourth[0], third[0]);
    assert.deepEqual(shape(fourth), ['Bob[1-0]', '*Me[2-0]', 'Bob[3-0]', 'presence', 'Bob[4-0]']);
  });
});
