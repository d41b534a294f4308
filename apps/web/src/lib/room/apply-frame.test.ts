import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { recoverAfter } from '@parley/client';
import type { HistoryPage, MessageFrame, ServerFrame, User, WelcomeFrame } from '@parley/protocol';
import {
  applyFrame,
  applyRecoveryPage,
  decodeRoomFrame,
  initialRoomState,
  type FrameContext,
  type FrameOutcome,
  type RoomFrame,
  type RoomState,
} from './apply-frame.ts';
import { addToOutbox, markSending, type OutboxItem } from './outbox.ts';
import { presenceText } from './presence-run.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';
import { TYPING_SHOW_MS } from './typing.ts';

const me: User = { id: 'u_me', name: 'Me' };
const bob: User = { id: 'u_bob', name: 'Bob' };
const alice: User = { id: 'u_alice', name: 'Alice' };
const carol: User = { id: 'u_carol', name: 'Carol' };

function msg(id: string, user: User = bob, clientMsgId?: string): MessageFrame {
  return {
    type: 'message',
    id,
    room: 'r',
    user,
    text: `text ${id}`,
    ts: Number(id.split('-')[0]),
    ...(clientMsgId === undefined ? {} : { clientMsgId }),
  };
}

function welcome(history: MessageFrame[], fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: me,
    token: 'tok-1',
    members: [me, bob],
    history,
    recovered: false,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

/** A context whose lastSeen is `lastSeen` and counts how often it was asked. */
function context(lastSeen: string | null = null, now = 1_000): FrameContext & { asked: number } {
  let fresh = 0;
  const ctx = {
    now,
    asked: 0,
    lastSeen: () => {
      ctx.asked += 1;
      return lastSeen;
    },
    newClientMsgId: () => `c-fresh-${++fresh}`,
  };
  return ctx;
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
const kinds = (outcome: FrameOutcome) => outcome.effects.map((e) => e.kind);

/** Applies frames one after the other, as the shell does; returns the last outcome. */
function apply(state: RoomState, frames: RoomFrame[], ctx: FrameContext = context()): FrameOutcome {
  let outcome: FrameOutcome = { state, effects: [], timelineChanged: false };
  for (const frame of frames) outcome = applyFrame(outcome.state, frame, ctx);
  return outcome;
}

/** A room welcomed once with `history` (no `since`). */
function welcomed(history: MessageFrame[] = [], outbox: readonly OutboxItem[] = []): RoomState {
  return applyFrame(initialRoomState(new Timeline(), outbox), welcome(history), context()).state;
}

/** One message of mine on the wire. */
function sending(clientMsgId: string, text = 'hi'): readonly OutboxItem[] {
  return markSending(addToOutbox([], clientMsgId, text, 1), [clientMsgId], 2);
}

describe('applyFrame: welcome', () => {
  test('a first welcome: who I am, the members, the history; the token is kept, the socket welcomed, waiting messages sent', () => {
    const waiting = addToOutbox([], 'c-1', 'typed offline', 1);
    const outcome = applyFrame(
      initialRoomState(new Timeline(), waiting),
      welcome([msg('1-0'), msg('2-0')], { hasMore: true }),
      context(),
    );
    const { state } = outcome;
    assert.deepEqual(state.me, me);
    assert.deepEqual(state.members, [me, bob]);
    assert.deepEqual(ids(state.timeline.entries), ['1-0', '2-0']);
    assert.equal(state.hasMore, true);
    assert.equal(state.welcomedOnce, true);
    assert.equal(state.contiguous, undefined);
    assert.equal(outcome.timelineChanged, true);
    assert.deepEqual(outcome.effects, [
      { kind: 'save-token', token: 'tok-1' },
      { kind: 'welcomed' },
      { kind: 'transmit', clientMsgIds: ['c-1'] },
    ]);
  });

  test('a first visit has no divider, and what the welcome shows counts as seen', () => {
    const { state } = applyFrame(initialRoomState(new Timeline()), welcome([msg('1-0'), msg('2-0')]), context(null));
    assert.equal(state.dividerBefore, undefined);
    assert.equal(state.readUpTo, '2-0');
  });

  test('coming back: the divider goes before the first message from others after the last seen one; asked once only', () => {
    const ctx = context('2-0');
    const first = applyFrame(
      initialRoomState(new Timeline()),
      welcome([msg('1-0'), msg('2-0'), msg('3-0', me), msg('4-0')]),
      ctx,
    );
    assert.equal(first.state.dividerBefore, '4-0');
    assert.equal(first.state.readUpTo, '2-0');
    const again = applyFrame({ ...first.state, askedSince: '4-0' }, welcome([msg('5-0')], { recovered: true }), ctx);
    assert.equal(again.state.dividerBefore, '4-0', 'fixed by the first welcome');
    assert.equal(ctx.asked, 1);
  });

  test('a reconnect that recovered everything continues the log without a gap', () => {
    const state = { ...welcomed([msg('1-0'), msg('2-0')]), askedSince: '2-0' };
    const { state: after } = applyFrame(state, welcome([msg('3-0')], { recovered: true, hasMore: false }), context());
    assert.deepEqual(ids(after.timeline.entries), ['1-0', '2-0', '3-0']);
  });

  test('a reconnect the server could not recover from marks a gap before the new stretch', () => {
    const state = { ...welcomed([msg('1-0'), msg('2-0')]), askedSince: '2-0' };
    const { state: after } = applyFrame(state, welcome([msg('8-0'), msg('9-0')], { recovered: false }), context());
    assert.deepEqual(ids(after.timeline.entries), ['1-0', '2-0', 'gap', '8-0', '9-0']);
  });

  test('a recovery under way that the server can no longer finish: the hole after `since` gets its own gap', () => {
    const state = welcomed([msg('1-0'), msg('2-0')]);
    // The recovery had got to 2-0 when live 5-0 arrived; the reconnect asked since 2-0.
    const during = applyFrame({ ...state, contiguous: '2-0' }, msg('5-0'), context()).state;
    const { state: after } = applyFrame(
      { ...during, askedSince: '2-0' },
      welcome([msg('9-0')], { recovered: false }),
      context(),
    );
    assert.deepEqual(ids(after.timeline.entries), ['1-0', '2-0', 'gap', '5-0', 'gap', '9-0']);
  });

  test('hasNewer: the rest is fetched after the last id of the history, and a reconnect asks from there meanwhile', () => {
    const state = { ...welcomed([msg('1-0')]), askedSince: '1-0' };
    const outcome = applyFrame(
      state,
      welcome([msg('2-0'), msg('3-0')], { recovered: true, hasNewer: true }),
      context(),
    );
    assert.deepEqual(kinds(outcome), ['save-token', 'recover', 'welcomed', 'transmit']);
    assert.deepEqual(outcome.effects[1], { kind: 'recover', after: '3-0' });
    assert.equal(outcome.state.contiguous, '3-0');
  });

  test('hasNewer with an empty history recovers after the `since` asked', () => {
    const state = { ...welcomed([msg('1-0')]), askedSince: '1-0' };
    const outcome = applyFrame(state, welcome([], { recovered: true, hasNewer: true }), context());
    assert.deepEqual(outcome.effects[1], { kind: 'recover', after: '1-0' });
  });

  test('hasMore is the welcome’s only while nothing is held; typing notices are forgotten; delivered messages leave the outbox', () => {
    let state = welcomed([msg('1-0')], sending('c-1'));
    state = applyFrame(state, { type: 'typing', user: bob }, context()).state;
    assert.equal(state.typists.length, 1);
    const outcome = applyFrame(
      { ...state, askedSince: '1-0' },
      welcome([msg('2-0', me, 'c-1')], { recovered: true, hasMore: true }),
      context(),
    );
    assert.equal(outcome.state.hasMore, false, 'scroll-back state is not reset by a reconnect');
    assert.deepEqual(outcome.state.typists, []);
    assert.deepEqual(outcome.state.outbox, []);
    assert.deepEqual(outcome.effects.at(-1), { kind: 'transmit', clientMsgIds: [] });
  });
});

describe('applyFrame: message', () => {
  test('a message from someone else is added, announced and passed on, and ends their typing', () => {
    let state = welcomed([msg('1-0')]);
    state = applyFrame(state, { type: 'typing', user: bob }, context()).state;
    const message = msg('2-0');
    const outcome = applyFrame(state, message, context());
    assert.deepEqual(ids(outcome.state.timeline.entries), ['1-0', '2-0']);
    assert.equal(outcome.timelineChanged, true);
    assert.deepEqual(outcome.state.typists, []);
    assert.deepEqual(outcome.effects, [
      { kind: 'announce', text: 'Bob: text 2-0' },
      { kind: 'incoming', message },
    ]);
  });

  test('my own message is not news, and takes its item out of the outbox', () => {
    const outcome = applyFrame(welcomed([], sending('c-1')), msg('2-0', me, 'c-1'), context());
    assert.deepEqual(outcome.effects, []);
    assert.deepEqual(outcome.state.outbox, []);
    assert.deepEqual(ids(outcome.state.timeline.entries), ['2-0']);
  });

  test('a message held already changes nothing and announces nothing', () => {
    const state = welcomed([msg('1-0')]);
    const outcome = applyFrame(state, msg('1-0'), context());
    assert.equal(outcome.timelineChanged, false);
    assert.deepEqual(outcome.effects, []);
    assert.deepEqual(ids(outcome.state.timeline.entries), ['1-0']);
  });
});

describe('applyFrame: join and leave', () => {
  test('consecutive joins and leaves make one line, and keep the member list', () => {
    const outcome = apply(welcomed(), [
      { type: 'join', user: alice, ts: 1 },
      { type: 'join', user: carol, ts: 2 },
      { type: 'leave', user: alice, ts: 3 },
    ]);
    assert.deepEqual(ids(outcome.state.timeline.entries), ['Carol joined, Alice joined and left']);
    assert.deepEqual(outcome.state.members, [me, bob, carol]);
    assert.equal(outcome.timelineChanged, true);
  });

  test('a message between them starts a new line', () => {
    const outcome = apply(welcomed(), [
      { type: 'join', user: alice, ts: 1 },
      msg('2-0'),
      { type: 'join', user: carol, ts: 3 },
    ]);
    assert.deepEqual(ids(outcome.state.timeline.entries), ['Alice joined', '2-0', 'Carol joined']);
  });

  test('someone who leaves stops typing', () => {
    const outcome = apply(welcomed(), [
      { type: 'typing', user: bob },
      { type: 'leave', user: bob, ts: 5 },
    ]);
    assert.deepEqual(outcome.state.typists, []);
    assert.deepEqual(outcome.state.members, [me]);
  });
});

describe('applyFrame: typing', () => {
  test('someone typing is shown for a few seconds from now', () => {
    const outcome = applyFrame(welcomed(), { type: 'typing', user: bob }, context(null, 5_000));
    assert.deepEqual(outcome.state.typists, [{ user: bob, until: 5_000 + TYPING_SHOW_MS }]);
    assert.equal(outcome.timelineChanged, false);
    assert.deepEqual(outcome.effects, []);
  });

  test('my own typing (another tab) is not shown', () => {
    const state = welcomed();
    assert.equal(applyFrame(state, { type: 'typing', user: me }, context()).state, state);
  });
});

describe('applyFrame: ack', () => {
  test('an ack before the echo marks the message sent; the echo then removes it', () => {
    const acked = applyFrame(
      welcomed([], sending('c-1')),
      { type: 'ack', clientMsgId: 'c-1', id: '2-0' },
      context(),
    ).state;
    assert.equal(acked.outbox[0]?.state, 'sent');
    assert.equal(acked.outbox[0]?.id, '2-0');
    assert.deepEqual(applyFrame(acked, msg('2-0', me, 'c-1'), context()).state.outbox, []);
  });

  test('an ack after the echo: the item goes', () => {
    // An echo that does not name the clientMsgId leaves the item until the ack names its id.
    const echoed = applyFrame(welcomed([], sending('c-1')), msg('2-0', me), context()).state;
    assert.equal(echoed.outbox.length, 1);
    const outcome = applyFrame(echoed, { type: 'ack', clientMsgId: 'c-1', id: '2-0' }, context());
    assert.deepEqual(outcome.state.outbox, []);
    assert.deepEqual(outcome.effects, []);
  });

  test('an ack after an echo that took the item already changes nothing', () => {
    const echoed = applyFrame(welcomed([], sending('c-1')), msg('2-0', me, 'c-1'), context()).state;
    assert.deepEqual(echoed.outbox, []);
    assert.equal(
      applyFrame(echoed, { type: 'ack', clientMsgId: 'c-1', id: '2-0' }, context()).state.outbox,
      echoed.outbox,
    );
  });
});

describe('applyFrame: error', () => {
  test('an error for a message of mine marks it failed and says so', () => {
    const outcome = applyFrame(
      welcomed([], sending('c-1')),
      { type: 'error', code: 'too_large', message: 'Too long.', clientMsgId: 'c-1' },
      context(),
    );
    assert.equal(outcome.state.outbox[0]?.state, 'failed');
    assert.equal(outcome.state.outbox[0]?.error, 'Too long.');
    assert.equal(outcome.state.serverProblem, null);
    assert.deepEqual(outcome.effects, [{ kind: 'announce', text: 'Your message was not sent: Too long.' }]);
  });

  test('client_msg_id_reused: the failed message gets a new clientMsgId for its Retry', () => {
    const outcome = applyFrame(
      welcomed([], sending('c-1')),
      { type: 'error', code: 'client_msg_id_reused', message: 'Used before.', clientMsgId: 'c-1' },
      context(),
    );
    assert.equal(outcome.state.outbox[0]?.clientMsgId, 'c-fresh-1');
    assert.equal(outcome.state.outbox[0]?.state, 'failed');
  });

  test('an error for no message, or for a clientMsgId not in the outbox, is a problem of the room', () => {
    const state = welcomed([], sending('c-1'));
    for (const frame of [
      { type: 'error', code: 'rate_limited', message: 'Slow down.' },
      { type: 'error', code: 'rate_limited', message: 'Slow down.', clientMsgId: 'c-other' },
    ] as const) {
      const outcome = applyFrame(state, frame, context());
      assert.deepEqual(outcome.state.serverProblem, { code: 'rate_limited', message: 'Slow down.' });
      assert.equal(outcome.state.outbox, state.outbox);
      assert.deepEqual(outcome.effects, []);
    }
  });

  test('an error with a code this build does not know is still read and shown', () => {
    const decoded = decodeRoomFrame(JSON.stringify({ type: 'error', code: 'brand_new', message: 'Something new.' }));
    assert.ok(decoded.ok);
    assert.deepEqual(applyFrame(welcomed(), decoded.value, context()).state.serverProblem, {
      code: 'brand_new',
      message: 'Something new.',
    });
  });
});

describe('applyFrame: status', () => {
  test('a degraded bus is shown with the server’s words, or a default; then cleared', () => {
    const state = welcomed();
    const said = applyFrame(state, { type: 'status', degraded: true, message: 'Redis is down.' }, context()).state;
    assert.equal(said.degraded, 'Redis is down.');
    assert.match(
      applyFrame(state, { type: 'status', degraded: true, message: '' }, context()).state.degraded ?? '',
      /having trouble/,
    );
    assert.equal(applyFrame(said, { type: 'status', degraded: false, message: '' }, context()).state.degraded, null);
  });
});

describe('applyFrame: webhook', () => {
  // The rest is in webhook.test.ts.
  test('a change of the room’s webhook says which events leave the room, with a line', () => {
    const state = welcomed();
    const frame = { type: 'webhook', webhook: { events: ['message'] }, by: bob, eventId: '5-0' } as const;
    const outcome = applyFrame(state, { ...frame, webhook: { events: ['message'] } }, context());
    assert.deepEqual(outcome.state.webhook, ['message']);
    assert.equal(outcome.timelineChanged, true);
    assert.deepEqual(outcome.effects, [
      { kind: 'announce', text: 'Bob set up a webhook: this room’s messages are sent to it' },
    ]);
    // A server before webhook changes were logged (no eventId): the state and the words, no line.
    const unlogged = applyFrame(welcomed(), { type: 'webhook', webhook: { events: ['message'] }, by: bob }, context());
    assert.deepEqual(unlogged.state.webhook, ['message']);
    assert.equal(unlogged.timelineChanged, false);
    assert.equal(unlogged.effects.length, 1);
  });
});

describe('applyFrame: the contract', () => {
  test('the state given is not changed (only its timeline is)', () => {
    const state = welcomed([msg('1-0')], sending('c-1'));
    const copy = { ...state, members: [...state.members], outbox: [...state.outbox] };
    apply(state, [
      msg('2-0'),
      { type: 'join', user: alice, ts: 1 },
      { type: 'ack', clientMsgId: 'c-1', id: '3-0' },
      { type: 'typing', user: bob },
    ]);
    assert.deepEqual({ ...state, timeline: null }, { ...copy, timeline: null });
  });

  test('a frame type without a case throws (the compiler refuses it first)', () => {
    assert.throws(
      () => applyFrame(welcomed(), { type: 'reaction' } as unknown as ServerFrame, context()),
      /no handler/,
    );
  });

  test('decodes the frames of the protocol and refuses what is not one', () => {
    assert.deepEqual(decodeRoomFrame(JSON.stringify(msg('1-0'))), { ok: true, value: msg('1-0') });
    assert.equal(decodeRoomFrame('not json').ok, false);
    assert.equal(decodeRoomFrame(JSON.stringify({ type: 'reaction' })).ok, false);
  });
});

describe('applyRecoveryPage', () => {
  test('merges a page among the live messages, moves the reconnect point, and takes delivered messages out of the outbox', () => {
    let state = applyFrame(welcomed([msg('1-0')], sending('c-1')), msg('9-0'), context()).state;
    const page: HistoryPage = {
      room: 'r',
      messages: [msg('2-0'), msg('3-0', me, 'c-1')],
      hasMore: true,
      hasNewer: true,
      recovered: true,
    };
    state = applyRecoveryPage({ ...state, contiguous: '1-0' }, page, '1-0', '3-0');
    assert.deepEqual(ids(state.timeline.entries), ['1-0', '2-0', '3-0', '9-0']);
    assert.equal(state.contiguous, '3-0');
    assert.deepEqual(state.outbox, []);
  });

  test('a page the server could not recover from starts after a gap', () => {
    const state = applyFrame(welcomed([msg('1-0')]), msg('9-0'), context()).state;
    const page: HistoryPage = { room: 'r', messages: [msg('5-0')], hasMore: true, hasNewer: false, recovered: false };
    assert.deepEqual(ids(applyRecoveryPage(state, page, '1-0', '5-0').timeline.entries), ['1-0', 'gap', '5-0', '9-0']);
  });
});

describe("applyRecoveryPage with the client's page loop (recoverAfter), as RoomConnection runs them", () => {
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => msg(`${from + i}-0`));

  /** A server holding messages `oldest`..`newest`, paging `size` at a time after an id. */
  function server(oldest: number, newest: number, size: number) {
    const asked: string[] = [];
    const fetchAfter = async (after: string): Promise<HistoryPage> => {
      asked.push(after);
      const from = Number(after.split('-')[0]) + 1;
      const start = Math.max(from, oldest);
      const end = Math.min(newest, start + size - 1);
      return {
        room: 'r',
        messages: range(start, end),
        hasMore: true,
        hasNewer: end < newest,
        recovered: from >= oldest,
      };
    };
    return { asked, fetchAfter };
  }

  /** Runs a recovery after `after` into a timeline holding `held`; returns the cursors and the log. */
  async function recover(held: MessageFrame[], after: string, paging: ReturnType<typeof server>) {
    const timeline = new Timeline();
    timeline.appendMessages(held);
    let state = initialRoomState(timeline);
    const cursors: string[] = [];
    const outcome = await recoverAfter(
      after,
      {
        fetchAfter: paging.fetchAfter,
        onPage: (page, cursor, from) => {
          state = applyRecoveryPage(state, page, from, cursor);
          cursors.push(cursor);
        },
      },
      new AbortController().signal,
    );
    return { outcome, cursors, log: ids(state.timeline.entries) };
  }

  test('pages merge below the live messages, and the reconnect point never jumps past the hole', async () => {
    // The welcome brought 1..30 (hasNewer); 31..95 are missing; 96..100 arrived live meanwhile.
    const paging = server(1, 100, 20);
    const { outcome, cursors, log } = await recover([...range(1, 30), ...range(96, 100)], '30-0', paging);
    assert.deepEqual(outcome, { kind: 'complete', pages: 4, gap: false });
    assert.deepEqual(paging.asked, ['30-0', '50-0', '70-0', '90-0']);
    assert.deepEqual(cursors, ['50-0', '70-0', '90-0', '100-0']);
    assert.deepEqual(
      log,
      range(1, 100).map((m) => m.id),
    );
  });

  test('a page the server could not recover from gets a gap marker where the hole is', async () => {
    // The room moved on: only 41..60 are still kept.
    const { outcome, log } = await recover([...range(1, 10), ...range(58, 60)], '10-0', server(41, 60, 50));
    assert.deepEqual(outcome, { kind: 'complete', pages: 1, gap: true });
    assert.deepEqual(log, [...range(1, 10).map((m) => m.id), 'gap', ...range(41, 60).map((m) => m.id)]);
  });
});

describe('applyFrame: a big room’s head count', () => {
  test('the welcome’s memberCount, joins and leaves, then presence counts that make the list a snapshot', () => {
    let state = applyFrame(
      initialRoomState(new Timeline()),
      welcome([], { memberCount: 300, hasMoreMembers: true }),
      context(),
    ).state;
    assert.deepEqual(state.headcount, { count: 300, complete: false });
    const carol = { id: 'u_carol', name: 'Carol' };
    state = applyFrame(state, { type: 'join', user: carol, ts: 1 }, context()).state;
    assert.equal(state.headcount.count, 301);
    state = applyFrame(state, { type: 'presence', count: 1234 }, context()).state;
    assert.deepEqual(state.headcount, { count: 1234, complete: false });
    // A small room: everyone listed, and it stays so.
    const small = welcomed();
    assert.deepEqual(small.headcount, { count: 2, complete: true });
    assert.deepEqual(applyFrame(small, { type: 'leave', user: bob, ts: 2 }, context()).state.headcount, {
      count: 1,
      complete: true,
    });
  });
});
