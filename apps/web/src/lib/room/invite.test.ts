import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_INVITE_SECONDS,
  MAX_INVITE_SECONDS,
  type InviteFrame,
  type User,
  type WelcomeFrame,
} from '@parley/protocol';
import { applyFrame, initialRoomState, type FrameContext, type RoomFrame, type RoomState } from './apply-frame.ts';
import { DEFAULT_INVITE_DURATION, expiryText, INVITE_DURATIONS, inviteLink, timeLeft } from './invite.ts';
import { withRequest } from './moderation.ts';
import { Timeline } from './timeline.ts';

const me: User = { id: 'u_me', name: 'Me' };
const context: FrameContext = { now: 1_000, lastSeen: () => null, newClientMsgId: () => 'c-new' };

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function welcome(role: 'owner' | 'moderator' | 'member' = 'owner'): WelcomeFrame {
  return {
    type: 'welcome',
    room: 'r',
    you: { ...me, role },
    roles: role === 'owner' ? { owner: me.id, moderators: [] } : { moderators: [] },
    token: 't',
    members: [me],
    history: [],
    recovered: false,
    hasMore: false,
    hasNewer: false,
  };
}

function apply(state: RoomState, ...frames: RoomFrame[]): RoomState {
  for (const frame of frames) state = applyFrame(state, frame, context).state;
  return state;
}

/** A welcomed owner who asked for an invite (clientMsgId `i1`) and awaits the answer. */
function asking(): RoomState {
  const state = apply(initialRoomState(new Timeline()), welcome());
  return { ...state, requests: withRequest(state.requests, 'i1', { state: 'sending' }) };
}

const answer: InviteFrame = {
  type: 'invite',
  invite: '1767225600000.abc',
  url: 'https://chat.example.com/chat/r/?invite=1767225600000.abc',
  expiresTs: 1_767_225_600_000,
  clientMsgId: 'i1',
};

describe('invite durations', () => {
  test('an hour, a day (the default, as the server’s), a week and 30 days (the server’s limit)', () => {
    assert.deepEqual(
      INVITE_DURATIONS.map((d) => d.label),
      ['1 hour', '1 day', '7 days', '30 days'],
    );
    assert.equal(DEFAULT_INVITE_DURATION, DEFAULT_INVITE_SECONDS);
    assert.ok(INVITE_DURATIONS.some((d) => d.seconds === DEFAULT_INVITE_DURATION));
    assert.equal(Math.max(...INVITE_DURATIONS.map((d) => d.seconds)), MAX_INVITE_SECONDS);
    // The server refuses less than a minute.
    for (const { seconds } of INVITE_DURATIONS) assert.ok(seconds >= 60 && seconds <= MAX_INVITE_SECONDS);
  });
});

describe('inviteLink', () => {
  test('the server’s link when it sent one', () => {
    assert.deepEqual(inviteLink(answer, 'r', 'http://localhost:5173'), {
      url: answer.url,
      expiresTs: answer.expiresTs,
    });
  });

  test('otherwise the room’s page on this origin, the invite in its query, both encoded', () => {
    const link = inviteLink({ invite: 'a+b/c=', expiresTs: 5 }, '한국어', 'https://chat.example.com');
    assert.equal(link.url, 'https://chat.example.com/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/?invite=a%2Bb%2Fc%3D');
    assert.equal(new URL(link.url).searchParams.get('invite'), 'a+b/c=');
    assert.equal(link.expiresTs, 5);
  });
});

describe('expiry', () => {
  test('time left, rounded to the nearest unit', () => {
    assert.equal(timeLeft(30_000), 'in less than a minute');
    assert.equal(timeLeft(MINUTE), 'in 1 minute');
    assert.equal(timeLeft(5 * MINUTE + 10_000), 'in 5 minutes');
    // An hour's link a moment after it was made.
    assert.equal(timeLeft(HOUR - 2_000), 'in 1 hour');
    assert.equal(timeLeft(23 * HOUR), 'in 23 hours');
    assert.equal(timeLeft(DAY - 3_000), 'in 1 day');
    assert.equal(timeLeft(7 * DAY - 3_000), 'in 7 days');
    assert.equal(timeLeft(30 * DAY), 'in 30 days');
  });

  test('what the view says: when, or that it expired', () => {
    const format = (ts: number) => `at ${ts}`;
    assert.equal(expiryText(1_000 + 7 * DAY, 1_000, format), `Expires in 7 days (at ${1_000 + 7 * DAY}).`);
    assert.equal(expiryText(1_000, 1_000, format), 'This link has expired.');
    assert.equal(expiryText(500, 1_000, format), 'This link has expired.');
  });
});

describe('applyFrame: invites', () => {
  test('the answer to the reader’s request is kept with the request, done', () => {
    const state = apply(asking(), answer);
    assert.deepEqual(state.requests.get('i1'), {
      state: 'done',
      invite: { invite: answer.invite, url: answer.url, expiresTs: answer.expiresTs },
    });
  });

  test('an answer without a url (a server that does not know the page) is kept without one', () => {
    const { url: _url, ...withoutUrl } = answer;
    const state = apply(asking(), withoutUrl);
    assert.deepEqual(state.requests.get('i1'), {
      state: 'done',
      invite: { invite: answer.invite, expiresTs: answer.expiresTs },
    });
  });

  test('an answer to no request held (its view closed) changes nothing', () => {
    const before = apply(initialRoomState(new Timeline()), welcome());
    const outcome = applyFrame(before, answer, context);
    assert.equal(outcome.state, before);
    assert.deepEqual(outcome.effects, []);
  });

  test('a refusal of the request (a member, a rate limit) is shown by its view, not as a room problem', () => {
    const state = apply(asking(), {
      type: 'error',
      code: 'forbidden',
      message: 'Only the room’s owner and moderators can invite people.',
      clientMsgId: 'i1',
    });
    assert.deepEqual(state.requests.get('i1'), {
      state: 'failed',
      message: 'Only the room’s owner and moderators can invite people.',
    });
    assert.equal(state.serverProblem, null);
  });

  test('invite_required: the reader is out (the room says it is invite-only), not a problem banner', () => {
    const state = apply(initialRoomState(new Timeline()), {
      type: 'error',
      code: 'invite_required',
      message: 'This room is invite-only: ask its owner or a moderator for an invite.',
    });
    assert.deepEqual(state.removed, { kind: 'invite_required' });
    assert.equal(state.serverProblem, null);
    // Let in later (an invite, or invite-only turned off): the welcome ends it.
    assert.equal(apply(state, welcome('member')).removed, null);
  });

  test('room_full: a valid invite to a room that let in as many as it keeps puts the reader out, not a problem banner', () => {
    const state = apply(initialRoomState(new Timeline()), {
      type: 'error',
      code: 'room_full',
      message: 'This invite-only room has let in as many people as it can; ask its owner.',
    });
    assert.deepEqual(state.removed, { kind: 'room_full' });
    assert.equal(state.serverProblem, null);
    assert.equal(apply(state, welcome('member')).removed, null);
  });
});
