import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_ROOM_SETTINGS,
  type MessageFrame,
  type RoomSettings,
  type SettingsFrame,
  type User,
  type WelcomeFrame,
} from '@parley/protocol';
import { applyFrame, initialRoomState, type FrameContext, type RoomFrame, type RoomState } from './apply-frame.ts';
import { addToOutbox, markSending } from './outbox.ts';
import {
  changedSettings,
  readOnlyFor,
  settingsChanges,
  settingText,
  slowModeChoiceLabel,
  slowModeInterval,
  slowModeText,
  slowModeWait,
  SLOW_MODE_CHOICES,
  waitText,
} from './settings.ts';
import { Timeline, type TimelineEntry } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const olga: User = { id: 'u_olga', name: 'Olga' };

function settings(fields: Partial<RoomSettings>, eventId: string): SettingsFrame {
  return { type: 'settings', ...DEFAULT_ROOM_SETTINGS, ...fields, by: olga, eventId };
}

function msg(id: string, user: User = olga): MessageFrame {
  return { type: 'message', id, room: 'r', user, text: `text ${id}`, ts: Number(id.split('-')[0]) };
}

function welcome(fields: Partial<WelcomeFrame> = {}): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: { ...me, role: 'member' },
    roles: { owner: olga.id, moderators: [] },
    token: 't',
    members: [me, olga],
    history: [],
    recovered: false,
    hasMore: false,
    hasNewer: false,
    ...fields,
  };
}

const context: FrameContext = { now: 10_000, lastSeen: () => null, newClientMsgId: () => 'c-new' };

function apply(state: RoomState, ...frames: RoomFrame[]) {
  let outcome = { state, effects: [] as { kind: string; text?: string }[], timelineChanged: false };
  for (const frame of frames) outcome = applyFrame(outcome.state, frame, context);
  return outcome;
}

function welcomed(fields: Partial<WelcomeFrame> = {}): RoomState {
  return apply(initialRoomState(new Timeline()), welcome(fields)).state;
}

const settingLines = (entries: readonly TimelineEntry[]) =>
  entries.flatMap((e) => (e.kind === 'settings' ? e.changes.map((c) => settingText(e.frame.by, c)) : []));

describe('settings: words', () => {
  test('slow mode in short units, as the dialog and the composer say it', () => {
    assert.deepEqual(SLOW_MODE_CHOICES.map(slowModeChoiceLabel), [
      'Off',
      '5 s',
      '10 s',
      '30 s',
      '1 min',
      '5 min',
      '1 h',
    ]);
    assert.equal(slowModeInterval(90), '90 s');
    assert.equal(slowModeInterval(120), '2 min');
    assert.equal(slowModeText(30), 'Slow mode: one message every 30 s');
    assert.equal(waitText(23_001), '24 s');
    assert.equal(waitText(60_000), '1 min');
    assert.equal(waitText(250_000), '4 min 10 s');
  });

  test('one line per setting that changed, compared with the settings before', () => {
    const lines = (before: Partial<RoomSettings>, after: Partial<RoomSettings>) =>
      settingsChanges({ ...DEFAULT_ROOM_SETTINGS, ...before }, { ...DEFAULT_ROOM_SETTINGS, ...after }).map((c) =>
        settingText(olga, c),
      );
    assert.deepEqual(lines({}, {}), []);
    assert.deepEqual(lines({}, { topic: 'Plots on Saturday', slowModeSeconds: 30 }), [
      'Olga set the topic: Plots on Saturday',
      'Olga turned on slow mode: one message every 30 s',
    ]);
    assert.deepEqual(lines({ topic: 'x', slowModeSeconds: 30 }, { slowModeSeconds: 300 }), [
      'Olga removed the topic',
      'Olga changed slow mode: one message every 5 min',
    ]);
    assert.deepEqual(lines({ slowModeSeconds: 30 }, {}), ['Olga turned off slow mode']);
    assert.deepEqual(lines({}, { readOnly: true, unlisted: true, inviteOnly: true }), [
      'Olga made the room read-only',
      'Olga hid the room from the room list',
      'Olga made the room invite-only',
    ]);
    assert.deepEqual(lines({ readOnly: true, unlisted: true, inviteOnly: true }, {}), [
      'Olga turned off read-only: everyone can post again',
      'Olga showed the room in the room list again',
      'Olga opened the room to everyone',
    ]);
  });

  test('a settings frame sends only the fields that changed', () => {
    const current = { ...DEFAULT_ROOM_SETTINGS, topic: 'a', slowModeSeconds: 30 };
    assert.deepEqual(changedSettings(current, current), {});
    assert.deepEqual(changedSettings(current, { ...current, topic: 'b', readOnly: true }), {
      topic: 'b',
      readOnly: true,
    });
    assert.deepEqual(changedSettings(current, { ...current, slowModeSeconds: 0 }), { slowModeSeconds: 0 });
  });

  test('slow mode and read-only hold for members; the owner and moderators are exempt', () => {
    const slow = { ...DEFAULT_ROOM_SETTINGS, slowModeSeconds: 30 };
    assert.equal(slowModeWait(slow, 'member', 15_000, 10_000), 5_000);
    assert.equal(slowModeWait(slow, 'member', 15_000, 16_000), 0, 'the wait is over');
    assert.equal(slowModeWait(slow, 'member', null, 10_000), 0, 'no refusal');
    assert.equal(slowModeWait(slow, 'moderator', 15_000, 10_000), 0);
    assert.equal(slowModeWait(DEFAULT_ROOM_SETTINGS, 'member', 15_000, 10_000), 0, 'slow mode turned off');
    const readOnly = { ...DEFAULT_ROOM_SETTINGS, readOnly: true };
    assert.equal(readOnlyFor(readOnly, 'member'), true);
    assert.equal(readOnlyFor(readOnly, 'owner'), false);
    assert.equal(readOnlyFor(readOnly, 'moderator'), false);
    assert.equal(readOnlyFor(DEFAULT_ROOM_SETTINGS, 'member'), false);
  });
});

describe('applyFrame: settings', () => {
  test('the welcome’s settings are the room’s; a server that sends none means the defaults', () => {
    const topic = { ...DEFAULT_ROOM_SETTINGS, topic: 'Garden', slowModeSeconds: 30 };
    assert.deepEqual(welcomed({ settings: topic }).settings, topic);
    assert.deepEqual(welcomed().settings, DEFAULT_ROOM_SETTINGS);
    // A reconnect whose settings did not change keeps the object (nothing wakes).
    const state = welcomed({ settings: topic });
    assert.equal(apply(state, welcome({ settings: { ...topic } })).state.settings, state.settings);
  });

  test('a settings frame replaces them, adds a line per change in its place, reads them out and moves the cursor', () => {
    const state = welcomed({ history: [msg('1-0')] });
    const outcome = apply(state, settings({ topic: 'Plots on Saturday', slowModeSeconds: 30 }, '2-0'));
    assert.deepEqual(outcome.state.settings, {
      ...DEFAULT_ROOM_SETTINGS,
      topic: 'Plots on Saturday',
      slowModeSeconds: 30,
    });
    assert.equal(outcome.timelineChanged, true);
    assert.deepEqual(settingLines(outcome.state.timeline.entries), [
      'Olga set the topic: Plots on Saturday',
      'Olga turned on slow mode: one message every 30 s',
    ]);
    assert.deepEqual(outcome.effects, [
      { kind: 'announce', text: 'Olga set the topic: Plots on Saturday' },
      { kind: 'announce', text: 'Olga turned on slow mode: one message every 30 s' },
    ]);
    assert.equal(outcome.state.timeline.cursor(), '2-0');

    // Only what changed since: read-only.
    const next = apply(
      outcome.state,
      settings({ topic: 'Plots on Saturday', slowModeSeconds: 30, readOnly: true }, '3-0'),
    );
    assert.deepEqual(settingLines(next.state.timeline.entries).slice(2), ['Olga made the room read-only']);
    assert.equal(next.state.settings.readOnly, true);
    assert.equal(next.state.timeline.cursor(), '3-0');
  });

  test('a change that changes nothing has no line but moves the cursor; a replay changes nothing', () => {
    const state = welcomed({ history: [msg('1-0')] });
    const same = apply(state, settings({}, '2-0'));
    assert.equal(same.timelineChanged, false);
    assert.deepEqual(same.effects, []);
    assert.equal(same.state.settings, state.settings);
    assert.equal(same.state.timeline.cursor(), '2-0');
    const first = apply(state, settings({ readOnly: true }, '3-0'));
    const replay = apply(first.state, settings({ readOnly: true }, '3-0'));
    assert.equal(replay.state, first.state);
    assert.equal(replay.timelineChanged, false);
    assert.equal(settingLines(replay.state.timeline.entries).length, 1);
  });

  test('a recovery welcome’s settings changes are lines in their place, each against the one before', () => {
    const state = { ...welcomed({ history: [msg('1-0')] }), askedSince: '1-0' };
    const back = apply(
      state,
      welcome({
        recovered: true,
        history: [msg('2-0')],
        settings: { ...DEFAULT_ROOM_SETTINGS, topic: 'Seeds', slowModeSeconds: 30 },
        settingsChanges: [
          settings({ topic: 'Seeds' }, '3-0'),
          settings({ topic: 'Seeds', slowModeSeconds: 30 }, '4-0'),
        ],
      }),
    );
    assert.deepEqual(settingLines(back.state.timeline.entries), [
      'Olga set the topic: Seeds',
      'Olga turned on slow mode: one message every 30 s',
    ]);
    assert.equal(back.state.settings.slowModeSeconds, 30);
  });

  test('a first welcome’s first settings change says the settings it left: what was before is not known here', () => {
    // A reload (no since): the page holds the defaults, the room's topic was set long before the
    // history's stretch; in it, slow mode was turned on, then the room made read-only.
    const now = { ...DEFAULT_ROOM_SETTINGS, topic: 'Seeds', slowModeSeconds: 30, readOnly: true };
    const outcome = apply(
      initialRoomState(new Timeline()),
      welcome({
        history: [msg('1-0')],
        settings: now,
        settingsChanges: [
          settings({ topic: 'Seeds', slowModeSeconds: 30 }, '2-0'),
          settings({ topic: 'Seeds', slowModeSeconds: 30, readOnly: true }, '3-0'),
        ],
        lastEventId: '3-0',
      }),
    );
    // Not "set the topic: Seeds" (compared with the page's defaults: it was not set then).
    assert.deepEqual(settingLines(outcome.state.timeline.entries), [
      'Olga changed the room’s settings, now: topic “Seeds”; slow mode: one message every 30 s',
      'Olga made the room read-only',
    ]);
    assert.deepEqual(outcome.state.settings, now);
    assert.deepEqual(
      outcome.effects.filter((e) => e.kind === 'announce'),
      [],
      'not news: nothing read out',
    );
    // The same entry arriving live again is no second line; a new one is compared with the settings now.
    const next = apply(
      outcome.state,
      settings({ topic: 'Seeds', slowModeSeconds: 30, readOnly: true }, '3-0'),
      settings({ topic: 'Seeds', slowModeSeconds: 0, readOnly: true }, '4-0'),
    );
    assert.deepEqual(settingLines(next.state.timeline.entries).slice(2), ['Olga turned off slow mode']);
  });

  test('the settings a line says when what changed is not known: the topic and slow mode always, the rest when on', () => {
    const [all] = settingsChanges(undefined, {
      topic: '',
      slowModeSeconds: 0,
      readOnly: true,
      unlisted: true,
      inviteOnly: true,
    });
    assert.equal(
      settingText(olga, all!),
      'Olga changed the room’s settings, now: no topic; no slow mode; read-only; hidden from the room list; invite-only',
    );
    assert.deepEqual(
      settingsChanges(undefined, DEFAULT_ROOM_SETTINGS).map((c) => settingText(olga, c)),
      ['Olga changed the room’s settings, now: no topic; no slow mode'],
    );
  });

  test('messages that arrive later in a recovery go before a newer settings line', () => {
    const state = welcomed({ history: [msg('1-0')] });
    const outcome = apply(state, settings({ readOnly: true }, '3-0'), msg('2-0'));
    assert.deepEqual(
      outcome.state.timeline.entries.map((e) => e.kind),
      ['message', 'message', 'settings'],
    );
  });

  test('a slow_mode refusal: the wait counts from now; the message is failed with the server’s words', () => {
    let state = welcomed({ settings: { ...DEFAULT_ROOM_SETTINGS, slowModeSeconds: 30 } });
    state = { ...state, outbox: markSending(addToOutbox([], 'c1', 'hello again', 1), ['c1'], 1) };
    const outcome = apply(state, {
      type: 'error',
      code: 'slow_mode',
      message: 'This room is in slow mode: you can post again in 23 s.',
      clientMsgId: 'c1',
      retryAfterMs: 22_500,
    });
    assert.equal(outcome.state.slowModeUntil, 32_500);
    assert.equal(outcome.state.outbox[0]?.state, 'failed');
    assert.equal(outcome.state.outbox[0]?.error, 'This room is in slow mode: you can post again in 23 s.');
    assert.deepEqual(
      outcome.effects.map((e) => e.kind),
      ['announce'],
    );
    // Slow mode turned off: the wait is over.
    const off = apply(outcome.state, settings({}, '5-0'));
    assert.equal(off.state.slowModeUntil, null);
  });
});
