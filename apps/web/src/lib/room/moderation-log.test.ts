import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_ROOM_SETTINGS,
  type MessageFrame,
  type ModerationAction,
  type ModerationFrame,
  type RoomSettings,
  type SettingsFrame,
  type User,
  type WebhookChangeFrame,
  type WelcomeFrame,
} from '@parley/protocol';
import {
  applyFrame,
  applyRecoveryPage,
  initialRoomState,
  type FrameContext,
  type RoomFrame,
  type RoomState,
} from './apply-frame.ts';
import { loggedAt, moderationLog, type ModerationLogItem } from './moderation-log.ts';
import { Timeline } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const olga: User = { id: 'u_olga', name: 'Olga' };
const carl: User = { id: 'u_carl', name: 'Carl' };
const context: FrameContext = { now: 1_000, lastSeen: () => null, newClientMsgId: () => 'c-new' };

function mod(action: ModerationAction, eventId: string, extra: Partial<ModerationFrame> = {}): ModerationFrame {
  return { type: 'moderation', action, user: carl, by: olga, eventId, ...extra };
}

function settings(fields: Partial<RoomSettings>, eventId: string): SettingsFrame {
  return { type: 'settings', ...DEFAULT_ROOM_SETTINGS, ...fields, by: olga, eventId };
}

function msg(id: string): MessageFrame {
  return { type: 'message', id, room: 'r', user: carl, text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

function welcome(fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: { ...me, role: 'moderator' },
    roles: { owner: olga.id, moderators: [me.id] },
    token: 't',
    members: [me, olga, carl],
    history: [],
    recovered: false,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

function apply(state: RoomState, ...frames: RoomFrame[]): RoomState {
  for (const frame of frames) state = applyFrame(state, frame, context).state;
  return state;
}

/** The owner's change of the room's webhook, an entry of the room's log (`null`: removed). */
function hook(events: string[] | null, eventId: string): WebhookChangeFrame {
  return { type: 'webhook', webhook: events === null ? null : { events }, by: olga, eventId };
}

/** Applies a frame received at `now` (this client's clock). */
function applyAt(state: RoomState, now: number, frame: RoomFrame): RoomState {
  return applyFrame(state, frame, { ...context, now }).state;
}

/** An item as a short word for comparing orders: the action, the setting that changed, or `webhook-<change>`. */
const word = (item: ModerationLogItem) =>
  item.kind === 'moderation'
    ? item.frame.action
    : item.kind === 'settings'
      ? item.change.setting
      : `webhook-${item.change.kind}`;

describe('moderationLog', () => {
  test('the log’s moderation and settings lines, newest first; messages, joins and gaps are left out', () => {
    const state = apply(
      initialRoomState(new Timeline()),
      welcome({ history: [msg('100-0')] }),
      mod('mute', '200-0', { until: 5_000, reason: 'shouting' }),
      msg('300-0'),
      { type: 'join', user: carl, ts: 350 },
      settings({ slowModeSeconds: 30 }, '400-0'),
      mod('unmute', '500-0'),
      mod('kick', '500-1', { reason: 'calm down' }),
    );
    const log = moderationLog(state.timeline.entries);
    assert.deepEqual(log.map(word), ['kick', 'unmute', 'slowModeSeconds', 'mute']);
    assert.deepEqual(
      log.map((item) => (item.kind === 'webhook' ? undefined : item.eventId)),
      ['500-1', '500-0', '400-0', '200-0'],
    );
    // Who, what, to whom, until when and why: all there for the view.
    const mute = log[3]!;
    assert.equal(mute.kind, 'moderation');
    if (mute.kind === 'moderation') {
      assert.equal(mute.frame.by.name, 'Olga');
      assert.equal(mute.frame.user.name, 'Carl');
      assert.equal(mute.frame.until, 5_000);
      assert.equal(mute.frame.reason, 'shouting');
      assert.equal(mute.ts, 200);
    }
    const slow = log[2]!;
    assert.equal(slow.kind, 'settings');
    if (slow.kind === 'settings') {
      assert.deepEqual(slow.change, { setting: 'slowModeSeconds', seconds: 30, before: 0 });
      assert.equal(slow.by.name, 'Olga');
    }
  });

  test('a change of several settings is an item each, in the order of the log’s lines, with keys of their own', () => {
    const state = apply(
      initialRoomState(new Timeline()),
      welcome(),
      settings({ topic: 'Seeds', readOnly: true, inviteOnly: true }, '100-0'),
      mod('ban', '200-0'),
    );
    const log = moderationLog(state.timeline.entries);
    assert.deepEqual(log.map(word), ['ban', 'topic', 'readOnly', 'inviteOnly']);
    assert.equal(new Set(log.map((item) => item.key)).size, log.length);
  });

  test('actions missed while away (a reconnect’s welcome) and a recovery page’s take their place by log id', () => {
    let state = apply(initialRoomState(new Timeline()), welcome(), mod('mute', '100-0'));
    state = { ...state, askedSince: '100-0' };
    state = apply(
      state,
      welcome({
        recovered: true,
        hasNewer: true,
        moderation: [mod('unmute', '150-0')],
        settingsChanges: [settings({ inviteOnly: true }, '160-0')],
      }),
      // Live while the rest of the recovery is fetched.
      mod('kick', '900-0'),
    );
    state = applyRecoveryPage(
      state,
      { room: 'r', messages: [msg('170-0')], moderation: [mod('ban', '180-0')], hasMore: false, recovered: true },
      '160-0',
      '180-0',
    );
    assert.deepEqual(moderationLog(state.timeline.entries).map(word), ['kick', 'ban', 'inviteOnly', 'unmute', 'mute']);
  });

  test('settings changed in a recovery page are lines too, each described against the one before it', () => {
    let state = apply(initialRoomState(new Timeline()), welcome(), mod('mute', '100-0'));
    state = { ...state, askedSince: '100-0' };
    state = apply(
      state,
      welcome({ recovered: true, hasNewer: true, settingsChanges: [settings({ inviteOnly: true }, '160-0')] }),
    );
    state = applyRecoveryPage(
      state,
      {
        room: 'r',
        messages: [msg('170-0')],
        settingsChanges: [
          settings({ inviteOnly: true, slowModeSeconds: 30 }, '180-0'),
          settings({ inviteOnly: true, slowModeSeconds: 30, topic: 'Seeds' }, '190-0'),
        ],
        hasMore: false,
        recovered: true,
      },
      '160-0',
      '190-0',
    );
    // Only what each change changed: not the invite-only of the welcome's change again.
    assert.deepEqual(moderationLog(state.timeline.entries).map(word), [
      'topic',
      'slowModeSeconds',
      'inviteOnly',
      'mute',
    ]);
  });

  test('changes of the room’s webhook are items too: who, what, and when the server logged them', () => {
    let state = apply(initialRoomState(new Timeline()), welcome({ history: [msg('100-0')] }));
    state = apply(state, hook(['message', 'edit'], '250-0'), msg('300-0'), hook(['message', 'join'], '450-0'));
    state = apply(state, hook(null, '600-0'));
    const log = moderationLog(state.timeline.entries);
    assert.deepEqual(log.map(word), ['webhook-removed', 'webhook-changed', 'webhook-set']);
    assert.deepEqual(
      log.map((item) => [item.eventId, item.ts]),
      [
        ['600-0', 600],
        ['450-0', 450],
        ['250-0', 250],
      ],
    );
    const set = log[2]!;
    assert.equal(set.kind, 'webhook');
    if (set.kind === 'webhook') {
      assert.equal(set.by.name, 'Olga');
      assert.deepEqual(set.change, { kind: 'set', events: ['message', 'edit'] });
    }
    assert.equal(new Set(log.map((item) => item.key)).size, log.length);
  });

  test('webhook lines take their place among the log’s other lines by log id, whatever this client’s clock says', () => {
    let state = apply(initialRoomState(new Timeline()), welcome());
    state = applyAt(state, 900, mod('mute', '200-0'));
    state = applyAt(state, 100, hook(['message'], '250-0'));
    state = applyAt(state, 50, settings({ topic: 'Seeds', readOnly: true }, '400-0'));
    state = applyAt(state, 999, hook(['message', 'join'], '450-0'));
    state = apply(state, mod('unmute', '500-0'), hook(null, '500-1'), mod('kick', '500-2'));
    assert.deepEqual(moderationLog(state.timeline.entries).map(word), [
      'kick',
      'webhook-removed',
      'unmute',
      'webhook-changed',
      'topic',
      'readOnly',
      'webhook-set',
      'mute',
    ]);
  });

  test('changes made while away come with the welcome and a recovery page, each described against the one before', () => {
    let state = apply(initialRoomState(new Timeline()), welcome(), mod('mute', '100-0'), hook(['message'], '120-0'));
    state = { ...state, askedSince: '120-0' };
    state = apply(
      state,
      welcome({
        recovered: true,
        hasNewer: true,
        moderation: [mod('unmute', '150-0')],
        webhook: { events: ['join'] },
        webhookChanges: [hook(['message', 'edit'], '160-0')],
      }),
    );
    state = applyRecoveryPage(
      state,
      {
        room: 'r',
        messages: [msg('170-0')],
        webhookChanges: [hook(null, '180-0'), hook(['join'], '190-0')],
        hasMore: false,
        recovered: true,
      },
      '160-0',
      '190-0',
    );
    assert.deepEqual(moderationLog(state.timeline.entries).map(word), [
      'webhook-set',
      'webhook-removed',
      'webhook-changed',
      'unmute',
      'webhook-set',
      'mute',
    ]);
  });

  test('after a reload the first welcome’s webhook changes are there; the same entry arriving live is one item', () => {
    const changes = [hook(['message'], '150-0'), hook(['message', 'join'], '250-0'), hook(null, '350-0')];
    let state = apply(
      initialRoomState(new Timeline()),
      welcome({ history: [msg('100-0'), msg('200-0')], webhookChanges: changes, lastEventId: '350-0' }),
    );
    state = apply(state, changes[2]!, hook(['edit'], '400-0'));
    assert.deepEqual(moderationLog(state.timeline.entries).map(word), [
      'webhook-set',
      'webhook-removed',
      'webhook-changed',
      'webhook-set',
    ]);
  });

  test('after a reload the first welcome’s actions and settings changes are there too, each once', () => {
    const moderation = [mod('mute', '150-0', { until: 900 }), mod('unmute', '260-0')];
    const changes = [settings({ topic: 'Seeds' }, '250-0'), settings({ topic: 'Seeds', readOnly: true }, '300-0')];
    const hooks = [hook(['message'], '270-0')];
    const first = welcome({
      history: [msg('100-0'), msg('200-0')],
      moderation,
      settingsChanges: changes,
      webhookChanges: hooks,
      settings: { ...DEFAULT_ROOM_SETTINGS, topic: 'Seeds', readOnly: true },
      lastEventId: '300-0',
    });
    let state = apply(initialRoomState(new Timeline()), first);
    // The same entries again (live, or another welcome without since on this page): one item each.
    state = apply(state, moderation[1]!, changes[1]!, first, mod('kick', '400-0'));
    const log = moderationLog(state.timeline.entries);
    assert.deepEqual(log.map(word), ['kick', 'readOnly', 'webhook-set', 'unmute', 'settings', 'mute']);
    assert.equal(new Set(log.map((item) => item.key)).size, log.length, 'keys of their own');
    // The first settings change is said by the settings it left (the page held only the defaults).
    const firstSettings = log.find((item) => item.kind === 'settings' && item.eventId === '250-0');
    assert.deepEqual(firstSettings?.kind === 'settings' && firstSettings.change, {
      setting: 'settings',
      settings: { ...DEFAULT_ROOM_SETTINGS, topic: 'Seeds' },
    });
    // Lines only: Carl's old mute does not make him muted now.
    assert.equal(state.mutes.has(carl.id), false);
  });

  test('nothing seen: an empty log', () => {
    const state = apply(initialRoomState(new Timeline()), welcome({ history: [msg('100-0')] }));
    assert.deepEqual(moderationLog(state.timeline.entries), []);
  });
});

describe('loggedAt', () => {
  test('the time a log id begins with; none for an id that does not', () => {
    assert.equal(loggedAt('1767225600000-3'), 1_767_225_600_000);
    assert.equal(loggedAt('x-1'), undefined);
  });
});
