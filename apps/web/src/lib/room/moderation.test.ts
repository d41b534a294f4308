import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageFrame, ModerationAction, ModerationFrame, User, WelcomeFrame } from '@parley/protocol';
import {
  applyFrame,
  applyRecoveryPage,
  initialRoomState,
  type FrameContext,
  type RoomFrame,
  type RoomState,
} from './apply-frame.ts';
import {
  applyRestriction,
  applyRoleChange,
  DURATIONS,
  holds,
  moderationText,
  NONE,
  personActions,
  PURGE_WINDOWS,
  type Restrictions,
} from './moderation.ts';
import { addToOutbox } from './outbox.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const olga: User = { id: 'u_olga', name: 'Olga' };
const bob: User = { id: 'u_bob', name: 'Bob' };
const carl: User = { id: 'u_carl', name: 'Carl' };

const at = (until: number) => `at ${until}`;

function mod(
  action: ModerationAction,
  user: User,
  eventId: string,
  extra: Partial<ModerationFrame> = {},
): ModerationFrame {
  return { type: 'moderation', action, user, by: olga, eventId, ...extra };
}

function msg(id: string, user: User = bob): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

function welcome(fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: { ...me, role: 'member' },
    roles: { owner: olga.id, moderators: [] },
    token: 't',
    members: [me, olga, bob, carl],
    history: [],
    recovered: false,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

const context: FrameContext = { now: 1_000, lastSeen: () => null, newClientMsgId: () => 'c-new' };

function apply(state: RoomState, ...frames: RoomFrame[]) {
  let outcome = { state, effects: [] as unknown[], timelineChanged: false };
  for (const frame of frames) outcome = applyFrame(outcome.state, frame, context);
  return outcome;
}

function welcomed(fields: Partial<WelcomeFrame> = {}, history: MessageFrame[] = []): RoomState {
  return apply(initialRoomState(new Timeline()), welcome({ history, ...fields })).state;
}

const lines = (entries: readonly TimelineEntry[]) =>
  entries.map((e) => (e.kind === 'moderation' ? `${e.frame.action} ${e.frame.user.name}` : e.kind));

describe('roles and restrictions', () => {
  test('promote and demote change the moderators; transfer makes the old owner a moderator', () => {
    const roles = { owner: olga.id, moderators: [] };
    const promoted = applyRoleChange(roles, mod('promote', bob, '1-0'));
    assert.deepEqual(promoted, { owner: olga.id, moderators: [bob.id] });
    assert.equal(applyRoleChange(promoted, mod('promote', bob, '2-0')), promoted, 'nothing to change');
    assert.deepEqual(applyRoleChange(promoted, mod('demote', bob, '3-0')), { owner: olga.id, moderators: [] });
    assert.deepEqual(applyRoleChange(promoted, mod('transfer', bob, '4-0')), { owner: bob.id, moderators: [olga.id] });
    assert.equal(applyRoleChange(promoted, mod('kick', carl, '5-0')), promoted);
  });

  test('bans and mutes: set with their end (null: until lifted), lifted, and held until they end', () => {
    let bans: Restrictions = NONE;
    bans = applyRestriction(bans, mod('ban', carl, '1-0', { until: 5_000 }), 'ban', 'unban');
    bans = applyRestriction(bans, mod('ban', bob, '2-0'), 'ban', 'unban');
    assert.deepEqual(
      [...bans],
      [
        [carl.id, 5_000],
        [bob.id, null],
      ],
    );
    assert.equal(applyRestriction(bans, mod('mute', carl, '3-0'), 'ban', 'unban'), bans, 'not a ban');
    assert.deepEqual([...applyRestriction(bans, mod('unban', carl, '4-0'), 'ban', 'unban')], [[bob.id, null]]);
    assert.equal(holds(bans.get(carl.id), 4_999), true);
    assert.equal(holds(bans.get(carl.id), 5_000), false);
    assert.equal(holds(bans.get(bob.id), 1e15), true);
    assert.equal(holds(bans.get(me.id), 0), false);
  });

  test('what a menu offers follows the roles: owners everything, moderators not above members, members nothing', () => {
    const roles = { owner: olga.id, moderators: [bob.id] };
    const offered = (myId: string, target: string, muted = false, present = true) =>
      personActions(roles, myId, target, muted, present).map((a) => a.action);
    assert.deepEqual(offered(olga.id, carl.id), ['kick', 'ban', 'mute', 'purge', 'promote', 'transfer']);
    assert.deepEqual(offered(olga.id, bob.id, true), ['kick', 'ban', 'unmute', 'purge', 'demote', 'transfer']);
    assert.deepEqual(offered(bob.id, carl.id), ['kick', 'ban', 'mute', 'purge']);
    assert.deepEqual(offered(bob.id, olga.id), [], 'not the owner');
    assert.deepEqual(offered(carl.id, bob.id), [], 'a member moderates nobody');
    assert.deepEqual(offered(olga.id, olga.id), [], 'not oneself');
    assert.deepEqual(offered(olga.id, bob.id, true, false), ['unmute', 'purge', 'demote'], 'someone who left');
    assert.deepEqual(offered(bob.id, carl.id, false, false), ['purge'], 'their messages stay behind them');
  });

  test('removing recent messages: a dangerous item with a choice of how far back, an hour first picked', () => {
    const roles = { owner: olga.id, moderators: [] };
    const purge = personActions(roles, olga.id, carl.id, false).find((a) => a.action === 'purge');
    assert.deepEqual(purge, { action: 'purge', label: 'Remove recent messages', form: 'window', danger: true });
    assert.deepEqual(
      PURGE_WINDOWS.map((w) => [w.label, w.seconds]),
      [
        ['15 minutes', 900],
        ['1 hour', 3600],
        ['24 hours', 86_400],
      ],
    );
    // The dialog starts on the second choice of whichever list it shows: an hour in both.
    assert.equal(PURGE_WINDOWS[1]!.seconds, DURATIONS[1]!.seconds);
  });

  test('the line says who did what to whom, until when and why', () => {
    assert.equal(moderationText(mod('kick', carl, '1-0'), at), 'Olga removed Carl');
    assert.equal(
      moderationText(mod('ban', carl, '1-0', { until: 42, reason: ' spam ' }), at),
      'Olga banned Carl until at 42 (spam)',
    );
    assert.equal(moderationText(mod('mute', carl, '1-0'), at), 'Olga muted Carl until a moderator lifts it');
    assert.equal(moderationText(mod('promote', bob, '1-0'), at), 'Olga made Bob a moderator');
    assert.equal(moderationText(mod('demote', bob, '1-0'), at), 'Olga made Bob a member again');
    assert.equal(moderationText(mod('transfer', bob, '1-0'), at), 'Olga handed the room over to Bob');
    assert.equal(moderationText(mod('unban', carl, '1-0'), at), 'Olga unbanned Carl');
  });

  test('a purge’s line says how many messages went, and whose', () => {
    const purge = (extra: Partial<ModerationFrame>) => moderationText(mod('purge', carl, '1-0', extra), at);
    assert.equal(purge({ count: 12, reason: 'spam' }), 'Olga removed 12 recent messages by Carl (spam)');
    assert.equal(purge({ count: 1 }), 'Olga removed 1 recent message by Carl');
    assert.equal(purge({ count: 0 }), 'Olga removed no recent messages by Carl');
    assert.equal(purge({}), 'Olga removed recent messages by Carl', 'a frame without a count');
  });

  test('the operator’s purge of a whole room names nobody', () => {
    const everyone = { id: '*', name: 'everyone' };
    const operator = { id: 'operator', name: 'Operator' };
    const frame = (count?: number): ModerationFrame => ({
      ...mod('purge', everyone, '1-0', count === undefined ? {} : { count }),
      by: operator,
    });
    assert.equal(moderationText(frame(40), at), 'Operator removed 40 messages from the room');
    assert.equal(moderationText(frame(1), at), 'Operator removed 1 message from the room');
    assert.equal(moderationText(frame(), at), 'Operator removed the messages from the room');
  });
});

describe('applyFrame: moderation', () => {
  test('the welcome gives the roles; a moderation frame adds a line, is read out and moves the cursor', () => {
    const state = welcomed({}, [msg('1-0')]);
    assert.deepEqual(state.roles, { owner: olga.id, moderators: [] });
    const outcome = apply(state, mod('promote', bob, '2-0'));
    assert.deepEqual(lines(outcome.state.timeline.entries), ['message', 'promote Bob']);
    assert.deepEqual(outcome.state.roles, { owner: olga.id, moderators: [bob.id] });
    assert.deepEqual(outcome.effects, [{ kind: 'announce', text: 'Olga made Bob a moderator' }]);
    assert.equal(outcome.timelineChanged, true);
    assert.equal(outcome.state.timeline.cursor(), '2-0');
    // A replay (a reconnect's welcome) shows it once and changes nothing.
    const again = apply(outcome.state, mod('promote', bob, '2-0'));
    assert.equal(again.timelineChanged, false);
    assert.deepEqual(again.effects, []);
  });

  test('a purge: its deletions turn the messages into tombstones, then its line; roles, bans and mutes stay', () => {
    const state = welcomed({}, [msg('1-0', carl), msg('2-0', bob), msg('3-0', carl)]);
    const outcome = apply(
      state,
      { type: 'delete', id: '3-0', eventId: '4-0' },
      { type: 'delete', id: '1-0', eventId: '4-1' },
      mod('purge', carl, '4-2', { count: 2 }),
    );
    const entries = outcome.state.timeline.entries;
    assert.deepEqual(lines(entries), ['message', 'message', 'message', 'purge Carl']);
    assert.deepEqual(
      entries.flatMap((e) =>
        e.kind === 'message' ? [[e.message.id, e.message.deleted === true, e.message.text]] : [],
      ),
      [
        ['1-0', true, undefined],
        ['2-0', false, 'text 2-0'],
        ['3-0', true, undefined],
      ],
    );
    assert.equal(outcome.state.roles, state.roles);
    assert.equal(outcome.state.bans, state.bans);
    assert.equal(outcome.state.mutes, state.mutes);
    assert.equal(outcome.state.timeline.cursor(), '4-2');
    assert.deepEqual(outcome.effects.at(-1), { kind: 'announce', text: 'Olga removed 2 recent messages by Carl' });
  });

  test('the first message in a room without an owner makes its author the owner (not an anonymous one)', () => {
    const room = welcomed({ roles: { moderators: [] } });
    const anonymous = apply(room, msg('1-0', { id: 'anon_x', name: 'Anonymous' })).state;
    assert.equal(anonymous.roles.owner, undefined);
    const owned = apply(anonymous, msg('2-0', bob), msg('3-0', carl)).state;
    assert.deepEqual(owned.roles, { owner: bob.id, moderators: [] });
  });

  test('bans and mutes of others are remembered; mine too, and a mute of mine ends with an unmute', () => {
    const state = apply(
      welcomed(),
      mod('ban', carl, '1-0', { until: 9_000 }),
      mod('mute', me, '2-0', { until: 5_000 }),
    ).state;
    assert.equal(state.bans.get(carl.id), 9_000);
    assert.equal(state.mutes.get(me.id), 5_000);
    assert.equal(state.removed, null, 'a mute does not remove');
    assert.equal(apply(state, mod('unmute', me, '3-0')).state.mutes.has(me.id), false);
  });

  test('a muted refusal of a message marks it failed and mutes the reader until the time it gives', () => {
    const state = { ...welcomed(), outbox: addToOutbox([], 'c-1', 'hello', 1) };
    const { state: after } = apply(state, {
      type: 'error',
      code: 'muted',
      message: 'You are muted.',
      clientMsgId: 'c-1',
      until: 7_000,
    });
    assert.equal(after.mutes.get(me.id), 7_000);
    assert.equal(after.outbox[0]?.state, 'failed');
  });

  test('kicked: the frame about me, then the error; the room knows who removed me and stays out', () => {
    const { state } = apply(welcomed(), mod('kick', me, '1-0', { reason: 'calm down' }), {
      type: 'error',
      code: 'kicked',
      message: 'A moderator removed you from this room.',
    });
    assert.deepEqual(state.removed, { kind: 'kicked', by: olga, reason: 'calm down' });
    assert.equal(state.serverProblem, null, 'not shown as a refusal');
  });

  test('banned before the welcome: the error alone says until when; a welcome later clears it', () => {
    const { state } = apply(initialRoomState(new Timeline()), {
      type: 'error',
      code: 'banned',
      message: 'You are banned.',
      until: 60_000,
    });
    assert.deepEqual(state.removed, { kind: 'banned', until: 60_000 });
    assert.equal(apply(state, welcome()).state.removed, null);
  });

  test('banned by the operator: the error’s scope says it is the whole server', () => {
    const { state } = apply(initialRoomState(new Timeline()), {
      type: 'error',
      code: 'banned',
      message: 'The operator of this server banned you.',
      scope: 'server',
    });
    assert.deepEqual(state.removed, { kind: 'banned', scope: 'server' });
  });

  test('my moderation actions: acked, or refused with the server’s words (not a problem of the room)', () => {
    const state = { ...welcomed(), requests: new Map([['m-1', { state: 'sending' } as const]]) };
    assert.deepEqual(apply(state, { type: 'ack', clientMsgId: 'm-1', id: '5-0' }).state.requests.get('m-1'), {
      state: 'done',
    });
    const refused = apply(state, {
      type: 'error',
      code: 'not_present',
      message: 'Carl is not in the room.',
      clientMsgId: 'm-1',
    }).state;
    assert.deepEqual(refused.requests.get('m-1'), { state: 'failed', message: 'Carl is not in the room.' });
    assert.equal(refused.serverProblem, null);
  });

  test('a reconnect: missed actions go in their place among the messages; the welcome’s roles are the roles now', () => {
    const before = { ...welcomed({}, [msg('1-0')]), askedSince: '1-0' };
    const { state } = apply(
      before,
      welcome({
        recovered: true,
        history: [msg('2-0'), msg('4-0')],
        moderation: [mod('ban', carl, '3-0'), mod('promote', bob, '5-0')],
        roles: { owner: olga.id, moderators: [] },
        lastEventId: '5-0',
      }),
    );
    assert.deepEqual(lines(state.timeline.entries), ['message', 'message', 'ban Carl', 'message', 'promote Bob']);
    assert.deepEqual(state.roles, { owner: olga.id, moderators: [] }, 'demoted again since, says the welcome');
    assert.equal(state.bans.get(carl.id), null);
    assert.equal(state.timeline.cursor(), '5-0');
  });

  test('a first welcome’s actions are lines only: what holds now is the welcome’s, not what old entries set', () => {
    // A reload (no since): the stretch shown has Me muted for a while, Carl banned and Bob
    // promoted. The welcome says what holds now (Me's mute ran out: no `mutedUntil`; its roles):
    // the entries are lines of the log, and set nothing.
    const { state, effects } = apply(
      initialRoomState(new Timeline()),
      welcome({
        history: [msg('1-0'), msg('4-0')],
        moderation: [mod('mute', me, '2-0', { until: 900 }), mod('ban', carl, '3-0'), mod('promote', bob, '5-0')],
        lastEventId: '5-0',
      }),
    );
    assert.deepEqual(lines(state.timeline.entries), ['message', 'mute Me', 'ban Carl', 'message', 'promote Bob']);
    assert.equal(
      state.mutes.has(me.id),
      false,
      'the welcome says Me is not muted: an old mute is a line, not the state',
    );
    assert.equal(state.bans.has(carl.id), false);
    assert.deepEqual(state.roles, welcome().roles, 'the welcome’s roles');
    assert.equal(state.removed, null);
    assert.deepEqual(
      (effects as { kind: string }[]).filter((e) => e.kind === 'announce'),
      [],
      'not read out',
    );
    assert.equal(state.timeline.cursor(), '5-0');
    // The same entry live again is one line; a new one applies as ever.
    const live = apply(state, mod('promote', bob, '5-0'), mod('mute', carl, '6-0', { until: 9_000 })).state;
    assert.deepEqual(lines(live.timeline.entries).slice(-2), ['promote Bob', 'mute Carl']);
    assert.equal(live.mutes.get(carl.id), 9_000);
    // The reader's own mute comes from the welcome's `you`.
    const muted = apply(
      initialRoomState(new Timeline()),
      welcome({ you: { ...me, role: 'member', mutedUntil: 0 }, moderation: [mod('unmute', me, '2-0')] }),
    ).state;
    assert.equal(muted.mutes.get(me.id), null, 'muted until lifted, whatever an older unmute said');
  });

  test('a recovery page adds its lines and moves the cursor, but leaves roles and bans to what came live', () => {
    const state = apply(welcomed({}, [msg('1-0')]), mod('unban', carl, '9-0')).state;
    const after = applyRecoveryPage(
      state,
      { room: 'r', messages: [msg('2-0')], hasMore: true, hasNewer: false, moderation: [mod('ban', carl, '3-0')] },
      '1-0',
      '9-0',
    );
    assert.deepEqual(lines(after.timeline.entries), ['message', 'message', 'ban Carl', 'unban Carl']);
    assert.equal(after.bans.has(carl.id), false);
  });
});
