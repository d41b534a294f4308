/**
 * Edits, deletions, reactions and replies: what their frames do to the log, the cursor a
 * reconnect and a recovery ask from, and the outbox rules the reader's own changes follow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type {
  ChangeFrame,
  ClientFrame,
  HistoryPage,
  MessageFrame,
  Reaction,
  User,
  WelcomeFrame,
} from '@parley/protocol';
import {
  applyFrame,
  applyRecoveryPage,
  initialRoomState,
  type FrameContext,
  type FrameOutcome,
  type RoomFrame,
  type RoomState,
} from './apply-frame.ts';
import { applyChange, toggledReactions } from './changes.ts';
import { buildRows, withChanges, type LogItem } from './grouping.ts';
import {
  addChange,
  addToOutbox,
  awaitingSend,
  keptOutbox,
  markAcked,
  markDisconnected,
  markFailed,
  markRetry,
  markSending,
  outboxFrame,
  removeAppliedChanges,
  removeDelivered,
  restoreOutbox,
  type OutboxItem,
} from './outbox.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const bob: User = { id: 'u_bob', name: 'Bob' };
const carol: User = { id: 'u_carol', name: 'Carol' };

function msg(id: string, user: User = bob, fields: Partial<MessageFrame> = {}): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts: Number(id.split('-')[0]), ...fields };
}
const edit = (id: string, text: string, eventId: string, editedTs = 50): ChangeFrame => ({
  type: 'edit',
  id,
  text,
  editedTs,
  eventId,
});
const del = (id: string, eventId: string): ChangeFrame => ({ type: 'delete', id, eventId });
const reactions = (id: string, list: Reaction[], eventId: string): ChangeFrame => ({
  type: 'reactions',
  id,
  reactions: list,
  eventId,
});
const thumbs = (...userIds: string[]): Reaction => ({ emoji: '👍', count: userIds.length, userIds });

function welcome(history: MessageFrame[], fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: me,
    token: 'tok',
    members: [me, bob],
    history,
    recovered: true,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

const context: FrameContext = { now: 1_000, lastSeen: () => null, newClientMsgId: () => 'c-fresh' };

function apply(state: RoomState, ...frames: RoomFrame[]): FrameOutcome {
  let outcome: FrameOutcome = { state, effects: [], timelineChanged: false };
  for (const frame of frames) outcome = applyFrame(outcome.state, frame, context);
  return outcome;
}

function welcomed(history: MessageFrame[], outbox: readonly OutboxItem[] = []): RoomState {
  return apply(initialRoomState(new Timeline(), outbox), welcome(history, { recovered: false })).state;
}

const messages = (entries: readonly TimelineEntry[]) =>
  entries.flatMap((e) => (e.kind === 'message' ? [e.message] : []));
const texts = (entries: readonly TimelineEntry[]) =>
  messages(entries).map((m) => (m.deleted ? `${m.id}:deleted` : `${m.id}:${m.text}`));

describe('applyChange (one message)', () => {
  test('an edit replaces the text and says when; an older edit than the one shown is ignored', () => {
    const edited = applyChange(msg('1-0'), edit('1-0', 'fixed', '5-0', 50));
    assert.equal(edited.text, 'fixed');
    assert.equal(edited.editedTs, 50);
    assert.equal(applyChange(edited, edit('1-0', 'stale', '4-0', 40)), edited);
    assert.equal(applyChange(edited, edit('1-0', 'fixed', '5-0', 50)), edited, 'applying it twice changes nothing');
  });

  test('a deletion leaves a tombstone: no text, no reactions; the author, time and reply stay', () => {
    const original = msg('1-0', bob, {
      reactions: [thumbs('u_me')],
      replyTo: { id: '0-1', user: carol, excerpt: 'hi' },
      editedTs: 7,
    });
    const gone = applyChange(original, del('1-0', '6-0'));
    assert.equal(gone.deleted, true);
    assert.equal('text' in gone, false);
    assert.equal('reactions' in gone, false);
    assert.deepEqual(gone.user, bob);
    assert.deepEqual(gone.replyTo, original.replyTo);
    assert.equal(gone.ts, original.ts);
    // Nothing brings it back.
    assert.equal(applyChange(gone, edit('1-0', 'back', '7-0', 99)), gone);
    assert.equal(applyChange(gone, reactions('1-0', [thumbs('u_bob')], '8-0')), gone);
  });

  test('reactions replace the whole summary; an empty one removes it; the same one twice changes nothing', () => {
    const one = applyChange(msg('1-0'), reactions('1-0', [thumbs('u_me')], '5-0'));
    assert.deepEqual(one.reactions, [thumbs('u_me')]);
    assert.equal(applyChange(one, reactions('1-0', [thumbs('u_me')], '5-0')), one);
    const none = applyChange(one, reactions('1-0', [], '6-0'));
    assert.equal('reactions' in none, false);
  });

  test('toggledReactions adds or takes back one person, once', () => {
    const start = [thumbs('u_bob')];
    const added = toggledReactions(start, '👍', 'u_me', true);
    assert.deepEqual(added, [thumbs('u_bob', 'u_me')]);
    assert.equal(toggledReactions(added, '👍', 'u_me', true), added, 'twice counts once');
    assert.deepEqual(toggledReactions(added, '👍', 'u_me', false), [thumbs('u_bob')]);
    assert.deepEqual(toggledReactions(start, '👍', 'u_bob', false), [], 'the last one takes the chip away');
    assert.deepEqual(toggledReactions(start, '🎉', 'u_me', true), [
      thumbs('u_bob'),
      { emoji: '🎉', count: 1, userIds: ['u_me'] },
    ]);
  });
});

describe('Timeline: changes by id', () => {
  test('a change replaces its message in place, keeping its key and its place among the others', () => {
    const t = new Timeline();
    t.appendMessages([msg('1-0'), msg('2-0'), msg('3-0')]);
    const before = t.entries[1]!;
    assert.ok(t.applyChange(edit('2-0', 'new', '4-0')));
    assert.deepEqual(texts(t.entries), ['1-0:text 1-0', '2-0:new', '3-0:text 3-0']);
    assert.equal(t.entries[1]!.key, before.key, 'the same key: the element stays');
    assert.notEqual(t.entries[1], before, 'a new entry: views comparing by identity see the change');
    assert.equal(t.applyChange(edit('9-0', 'nobody', '10-0')), undefined, 'a message not held: nothing');
  });

  test('messages are still found after entries moved: merged in, older history on top, a gap inserted', () => {
    const t = new Timeline();
    t.appendMessages([msg('5-0'), msg('9-0')]);
    t.appendMessages([msg('7-0')]); // merged between
    t.prependMessages([msg('1-0'), msg('2-0')]);
    t.insertGapAfter('5-0');
    t.addPresence('join', carol, 10);
    for (const id of ['1-0', '2-0', '5-0', '7-0', '9-0']) t.applyChange(edit(id, `e${id}`, '20-0'));
    assert.deepEqual(
      t.entries.map((e) => (e.kind === 'message' ? e.message.text : e.kind)),
      ['e1-0', 'e2-0', 'e5-0', 'gap', 'e7-0', 'e9-0', 'presence'],
    );
    assert.equal(t.message('7-0')?.text, 'e7-0');
  });

  test('every one of 20,000 edits lands on its own message, found by id', () => {
    const t = new Timeline();
    const many = Array.from({ length: 20_000 }, (_, i) => msg(`${i + 1}-0`));
    t.appendMessages(many);
    for (let i = 1; i <= 20_000; i++) t.applyChange(edit(`${i}-0`, `e${i}`, `${30_000 + i}-0`));
    assert.equal(t.message('1-0')?.text, 'e1');
    assert.equal(t.message('20000-0')?.text, 'e20000');
    assert.equal(t.cursor(), '50000-0');
  });

  test('the cursor is the newest id seen, a message or a change; a gap marker starts it over', () => {
    const t = new Timeline();
    t.appendMessages([msg('1-0'), msg('2-0')]);
    assert.equal(t.cursor(), '2-0');
    t.applyChange(reactions('1-0', [thumbs('u_me')], '3-0'));
    assert.equal(t.cursor(), '3-0', 'a change counts even though its message is older');
    assert.equal(t.newestMessageId(), '2-0', 'reading and the divider count messages only');
    t.applyChange(del('0-5', '4-0'));
    assert.equal(t.cursor(), '4-0', 'a change to a message not held counts too');
    t.appendMessages([msg('5-0')]);
    assert.equal(t.cursor(), '5-0');
    // The room started over (smaller ids) after a gap: those are the newest now.
    t.appendGap();
    t.appendMessages([msg('1-1')]);
    assert.equal(t.cursor(), '1-1');
  });

  test('insertGapAfter a change id puts the marker after the last message older than it', () => {
    const t = new Timeline();
    t.appendMessages([msg('1-0'), msg('3-0'), msg('9-0')]);
    t.insertGapAfter('4-0');
    assert.deepEqual(
      t.entries.map((e) => (e.kind === 'message' ? e.message.id : e.kind)),
      ['1-0', '3-0', 'gap', '9-0'],
    );
  });

  test('the last message of a person that is not deleted; names of everyone seen', () => {
    const t = new Timeline();
    t.appendMessages([msg('1-0', me), msg('2-0', me), msg('3-0', bob)]);
    t.addPresence('join', carol, 4);
    assert.equal(t.lastMessageBy(me.id)?.id, '2-0');
    t.applyChange(del('2-0', '5-0'));
    assert.equal(t.lastMessageBy(me.id)?.id, '1-0');
    assert.equal(t.lastMessageBy('u_nobody'), undefined);
    assert.equal(t.nameOf('u_bob'), 'Bob');
    assert.equal(t.nameOf('u_carol'), 'Carol');
  });
});

describe('applyFrame: change frames', () => {
  test('edits, deletions and reactions change the message in its place', () => {
    const state = welcomed([msg('1-0'), msg('2-0', me)]);
    const outcome = apply(
      state,
      edit('1-0', 'fixed', '3-0'),
      reactions('1-0', [thumbs('u_me')], '4-0'),
      del('2-0', '5-0'),
    );
    assert.deepEqual(texts(outcome.state.timeline.entries), ['1-0:fixed', '2-0:deleted']);
    assert.deepEqual(outcome.state.timeline.message('1-0')?.reactions, [thumbs('u_me')]);
    assert.equal(outcome.state.timeline.cursor(), '5-0');
  });

  test("someone else's edit and deletion are read out politely; reactions and the reader's own are not", () => {
    const state = welcomed([msg('1-0'), msg('2-0'), msg('3-0', me)]);
    const announced = (frame: ChangeFrame) =>
      applyFrame(state, frame, context).effects.flatMap((e) => (e.kind === 'announce' ? [e.text] : []));
    assert.deepEqual(announced(edit('1-0', 'fixed', '4-0')), ['Bob edited a message: fixed']);
    assert.deepEqual(announced(del('2-0', '5-0')), ['Bob deleted a message']);
    assert.deepEqual(announced(reactions('1-0', [thumbs('u_me')], '6-0')), []);
    assert.deepEqual(announced(edit('3-0', 'mine', '7-0')), []);
    const repeat = apply(state, edit('1-0', 'fixed', '4-0')).state;
    assert.deepEqual(applyFrame(repeat, edit('1-0', 'fixed', '4-0'), context).effects, [], 'nothing new: nothing said');
  });

  test("a welcome's changes apply after its history, and a reconnect asks from the newest of both", () => {
    const state = welcomed([msg('1-0'), msg('2-0')]);
    const outcome = apply(
      { ...state, askedSince: '2-0' },
      welcome([msg('3-0')], { changes: [edit('1-0', 'later', '4-0'), del('2-0', '5-0')] }),
    );
    assert.deepEqual(texts(outcome.state.timeline.entries), ['1-0:later', '2-0:deleted', '3-0:text 3-0']);
    assert.equal(outcome.state.timeline.cursor(), '5-0');
  });

  test('a recovery cut short goes on after the newest id of the welcome, change or message', () => {
    const state = welcomed([msg('1-0')]);
    const outcome = apply(
      { ...state, askedSince: '1-0' },
      welcome([msg('2-0')], { hasNewer: true, changes: [edit('1-0', 'x', '3-0')] }),
    );
    assert.deepEqual(
      outcome.effects.filter((e) => e.kind === 'recover'),
      [{ kind: 'recover', after: '3-0' }],
    );
    assert.equal(outcome.state.contiguous, '3-0');
  });

  test('the newest entry a welcome covers (lastEventId) is where a reconnect and a recovery go on', () => {
    // Changes folded into the history's messages are covered too, though no frame shows them.
    const state = welcomed([msg('1-0')]);
    const cut = apply({ ...state, askedSince: '1-0' }, welcome([msg('2-0')], { hasNewer: true, lastEventId: '9-0' }));
    assert.deepEqual(
      cut.effects.filter((e) => e.kind === 'recover'),
      [{ kind: 'recover', after: '9-0' }],
    );
    const whole = apply(initialRoomState(new Timeline()), welcome([msg('2-0')], { lastEventId: '7-0' }));
    assert.equal(whole.state.timeline.cursor(), '7-0');
    const bogus = apply(initialRoomState(new Timeline()), welcome([msg('2-0')], { lastEventId: 'not-an-id' }));
    assert.equal(bogus.state.timeline.cursor(), '2-0', 'a malformed lastEventId is ignored');
  });

  test("a recovery page's changes apply after its messages", () => {
    const state = welcomed([msg('1-0'), msg('2-0')]);
    const page: HistoryPage = {
      room: 'r',
      messages: [msg('3-0')],
      hasMore: true,
      changes: [reactions('1-0', [thumbs('u_bob')], '4-0')],
    };
    const next = applyRecoveryPage(state, page, '2-0', '4-0');
    assert.deepEqual(next.timeline.message('1-0')?.reactions, [thumbs('u_bob')]);
    assert.equal(next.contiguous, '4-0');
    assert.equal(next.timeline.cursor(), '4-0');
  });
});

describe('the outbox for changes', () => {
  const editing = addChange([], 'c-e', { kind: 'edit', target: '1-0' }, 'fixed', 1);

  test('each change goes on the wire as its frame; a reply carries the id it answers', () => {
    const frames: ClientFrame[] = [
      ...editing,
      ...addChange([], 'c-d', { kind: 'delete', target: '1-0' }, 'ignored', 1),
      ...addChange([], 'c-r', { kind: 'react', target: '1-0', emoji: '👍' }, '', 1),
      ...addChange([], 'c-u', { kind: 'unreact', target: '1-0', emoji: '👍' }, '', 1),
      ...addToOutbox([], 'c-m', 'hi', 1, { id: '1-0', user: bob, excerpt: 'text 1-0' }),
      ...addToOutbox([], 'c-p', 'plain', 1),
    ].map(outboxFrame);
    assert.deepEqual(frames, [
      { type: 'edit', id: '1-0', text: 'fixed', clientMsgId: 'c-e' },
      { type: 'delete', id: '1-0', clientMsgId: 'c-d' },
      { type: 'react', id: '1-0', emoji: '👍', clientMsgId: 'c-r' },
      { type: 'unreact', id: '1-0', emoji: '👍', clientMsgId: 'c-u' },
      { type: 'message', text: 'hi', clientMsgId: 'c-m', replyTo: '1-0' },
      { type: 'message', text: 'plain', clientMsgId: 'c-p' },
    ]);
  });

  test('pending while offline, sent once, back to pending when the connection drops, retried with the same id', () => {
    let o = editing;
    assert.deepEqual(
      awaitingSend(o).map((i) => i.clientMsgId),
      ['c-e'],
    );
    o = markSending(o, ['c-e'], 2);
    o = markDisconnected(o);
    assert.equal(o[0]?.state, 'pending');
    o = markFailed(markSending(o, ['c-e'], 3), 'c-e', 'The edit window has closed.');
    assert.equal(o[0]?.state, 'failed');
    assert.equal(o[0]?.error, 'The edit window has closed.');
    o = markRetry(o, 'c-e');
    assert.equal(o[0]?.clientMsgId, 'c-e');
    assert.equal(o[0]?.state, 'pending');
  });

  test('an acked change is done once the log reached its id; messages are never matched with changes', () => {
    let o = markAcked(markSending(editing, ['c-e'], 2), 'c-e', '7-0');
    assert.equal(removeDelivered(o, [msg('7-0', me, { clientMsgId: 'c-e' })], me.id), o);
    assert.equal(removeAppliedChanges(o, '6-0'), o);
    assert.deepEqual(removeAppliedChanges(o, '7-0'), []);
    o = markSending(editing, ['c-e'], 2);
    assert.equal(removeAppliedChanges(o, '99-0'), o, 'not acked yet: it stays');
  });

  test('the reducer: the ack of a change whose frame came first ends it; a refusal fails it with the reason', () => {
    let state = welcomed([msg('1-0', me)], markSending(editing, ['c-e'], 2));
    state = apply(state, edit('1-0', 'fixed', '7-0'), { type: 'ack', clientMsgId: 'c-e', id: '7-0' }).state;
    assert.deepEqual(state.outbox, []);

    state = welcomed([msg('1-0', me)], markSending(editing, ['c-e'], 2));
    state = apply(state, { type: 'ack', clientMsgId: 'c-e', id: '7-0' }).state;
    assert.equal(state.outbox[0]?.state, 'sent', 'acked, its frame still to come');
    state = apply(state, edit('1-0', 'fixed', '7-0')).state;
    assert.deepEqual(state.outbox, []);

    const refused = apply(welcomed([msg('1-0', me)], markSending(editing, ['c-e'], 2)), {
      type: 'error',
      code: 'edit_window_closed',
      message: 'Messages can be edited for 15 minutes.',
      clientMsgId: 'c-e',
    });
    assert.equal(refused.state.outbox[0]?.state, 'failed');
    assert.equal(refused.state.outbox[0]?.error, 'Messages can be edited for 15 minutes.');
    assert.deepEqual(refused.effects, [
      { kind: 'announce', text: 'Your edit was not saved: Messages can be edited for 15 minutes.' },
    ]);
  });

  test('the welcome sends waiting changes again with their ids', () => {
    const outcome = apply(initialRoomState(new Timeline(), editing), welcome([msg('1-0', me)]));
    assert.deepEqual(
      outcome.effects.filter((e) => e.kind === 'transmit'),
      [{ kind: 'transmit', clientMsgIds: ['c-e'] }],
    );
  });

  test('changes and replies survive a reload; malformed ones are skipped', () => {
    const o = [
      ...editing,
      ...addChange([], 'c-r', { kind: 'react', target: '1-0', emoji: '❤️' }, '', 2),
      ...addToOutbox([], 'c-m', 'answer', 3, { id: '1-0', user: bob, excerpt: 'q' }),
    ];
    const kept = keptOutbox(o);
    assert.deepEqual(restoreOutbox(JSON.parse(JSON.stringify(kept))), kept);
    assert.deepEqual(kept[0], {
      clientMsgId: 'c-e',
      text: 'fixed',
      createdAt: 1,
      state: 'pending',
      change: { kind: 'edit', target: '1-0' },
    });
    const good = kept[1]!;
    assert.deepEqual(
      restoreOutbox([
        { ...good, clientMsgId: 'c-1', change: { kind: 'react', target: '1-0', emoji: 'not an emoji' } },
        { ...good, clientMsgId: 'c-2', change: { kind: 'explode', target: '1-0' } },
        { ...good, clientMsgId: 'c-3', change: { kind: 'delete', target: 'nope' } },
        { ...kept[0], clientMsgId: 'c-4', text: '   ' },
        { ...kept[2], clientMsgId: 'c-5', replyTo: { id: '1-0', user: 'bob' } },
        good,
      ]),
      [good],
    );
  });
});

describe('the log shows the reader’s own changes at once', () => {
  const base: LogItem = {
    key: 'm:1-0',
    text: 'old',
    ts: 1,
    state: 'delivered',
    id: '1-0',
    reactions: [thumbs('u_bob')],
  };
  const change = (c: OutboxItem['change'], state: OutboxItem['state'], text = ''): OutboxItem => ({
    clientMsgId: `c-${c?.kind}-${state}`,
    text,
    createdAt: 1,
    state,
    ...(c === undefined ? {} : { change: c }),
  });

  test('an edit shows its text, with its state; a failed one shows the text the server has', () => {
    const pending = withChanges(base, [change({ kind: 'edit', target: '1-0' }, 'sending', 'new')], me.id);
    assert.equal(pending.text, 'new');
    assert.equal(pending.changes?.length, 1);
    const failed = withChanges(base, [change({ kind: 'edit', target: '1-0' }, 'failed', 'new')], me.id);
    assert.equal(failed.text, 'old');
    assert.equal(failed.changes?.[0]?.state, 'failed');
  });

  test('a deletion on the wire keeps the message; acked, the tombstone shows', () => {
    assert.equal(withChanges(base, [change({ kind: 'delete', target: '1-0' }, 'sending')], me.id).deleted, undefined);
    const gone = withChanges(base, [change({ kind: 'delete', target: '1-0' }, 'sent')], me.id);
    assert.equal(gone.deleted, true);
    assert.equal(gone.changes, undefined, 'nothing left to say about it');
  });

  test('reactions toggle in order; a failed one does not count', () => {
    const shown = withChanges(
      base,
      [
        change({ kind: 'react', target: '1-0', emoji: '👍' }, 'sending'),
        change({ kind: 'react', target: '1-0', emoji: '🎉' }, 'failed'),
      ],
      me.id,
    );
    assert.deepEqual(shown.reactions, [thumbs('u_bob', 'u_me')]);
    const taken = withChanges(
      { ...base, reactions: [thumbs('u_me')] },
      [change({ kind: 'unreact', target: '1-0', emoji: '👍' }, 'pending')],
      me.id,
    );
    assert.equal(taken.reactions, undefined);
  });

  test('buildRows: changes land on their message, never as rows; a reply shows its quote while unsent', () => {
    const t = new Timeline();
    t.appendMessages([msg('1-0', bob, { reactions: [thumbs('u_bob')] }), msg('2-0', bob)]);
    const outbox = [
      ...addChange([], 'c-r', { kind: 'react', target: '1-0', emoji: '👍' }, '', 5),
      ...addToOutbox([], 'c-m', 'answer', 6, { id: '1-0', user: bob, excerpt: 'text 1-0' }),
    ];
    const rows = buildRows(t.entries, outbox, { me, myName: 'Me' });
    const items = rows.flatMap((r) => (r.kind === 'group' ? r.items : []));
    assert.deepEqual(
      items.map((i) => i.id ?? i.clientMsgId),
      ['1-0', '2-0', 'c-m'],
    );
    assert.deepEqual(items[0]?.reactions, [thumbs('u_bob', 'u_me')]);
    assert.deepEqual(items[2]?.replyTo, { id: '1-0', user: bob, excerpt: 'text 1-0' });
    // The message without changes keeps its object: its element is left alone.
    const again = buildRows(t.entries, outbox, { me, myName: 'Me' });
    assert.equal(again.flatMap((r) => (r.kind === 'group' ? r.items : []))[1], items[1]);
  });

  test('a delivered message shows its server state: edited, deleted, reactions, reply', () => {
    const t = new Timeline();
    t.appendMessages([
      msg('1-0', bob, { editedTs: 9, replyTo: { id: '0-1', user: carol } }),
      msg('2-0', bob, { deleted: true, text: undefined }),
    ]);
    const items = buildRows(t.entries, [], { me, myName: 'Me' }).flatMap((r) => (r.kind === 'group' ? r.items : []));
    assert.equal(items[0]?.editedTs, 9);
    assert.deepEqual(items[0]?.replyTo, { id: '0-1', user: carol });
    assert.equal(items[1]?.deleted, true);
    assert.equal(items[1]?.text, '');
  });
});

describe('messages', () => {
  test('a deleted message in history has no text; it is shown, not announced as news', () => {
    const state = welcomed([msg('1-0', bob, { deleted: true, text: undefined })]);
    assert.deepEqual(texts(state.timeline.entries), ['1-0:deleted']);
  });

  test('a live reply is read out with whom it answers', () => {
    const state = welcomed([msg('1-0', carol)]);
    const outcome = apply(state, msg('2-0', bob, { text: 'yes', replyTo: { id: '1-0', user: carol, excerpt: 'q' } }));
    assert.deepEqual(outcome.effects[0], { kind: 'announce', text: 'Bob, replying to Carol: yes' });
  });
});
