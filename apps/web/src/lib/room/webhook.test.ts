import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  WEBHOOK_EVENTS,
  type MessageFrame,
  type RoomWebhook,
  type User,
  type WebhookChangeFrame,
  type WelcomeFrame,
} from '@parley/protocol';
import { applyFrame, initialRoomState, type FrameContext, type RoomFrame, type RoomState } from './apply-frame.ts';
import { withRequest } from './moderation.ts';
import { Timeline } from './timeline.ts';
import {
  attemptFailed,
  attemptOutcome,
  checkWebhookUrl,
  chosenEvents,
  deliveryCounts,
  eventWords,
  sameEvents,
  shownWebhook,
  WEBHOOK_EVENT_CHOICES,
  webhookChange,
  webhookNotice,
  webhookText,
} from './webhook.ts';

const me: User = { id: 'u_me', name: 'Me' };
const olga: User = { id: 'u_olga', name: 'Olga' };
const context: FrameContext = { now: 5_000, lastSeen: () => null, newClientMsgId: () => 'c-new' };

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

function apply(state: RoomState, ...frames: RoomFrame[]) {
  let outcome = { state, effects: [] as { kind: string; text?: string }[], timelineChanged: false };
  for (const frame of frames) outcome = applyFrame(outcome.state, frame, context);
  return outcome;
}

const fresh = () => initialRoomState(new Timeline());

/** The owner's change of the room's webhook, an entry of the room's log (`null`: removed). */
function change(events: string[] | null, eventId: string): WebhookChangeFrame {
  return { type: 'webhook', webhook: events === null ? null : { events }, by: olga, eventId };
}

function msg(id: string): MessageFrame {
  return { type: 'message', id, room: 'r', user: olga, text: id, ts: Number(id.split('-')[0]) };
}

describe('webhook: words', () => {
  test('events in the protocol’s order, in words; unknown names as they are', () => {
    assert.equal(eventWords(['edit', 'message']), 'messages and edits');
    assert.equal(eventWords(['delete', 'message', 'edit']), 'messages, edits and deletions');
    assert.equal(eventWords(['join']), 'arrivals');
    assert.equal(eventWords(['room.vacated', 'typing']), 'when it empties and typing');
    assert.equal(eventWords([]), 'nothing');
  });

  test('every event the protocol allows is a choice, in its order', () => {
    assert.deepEqual(
      WEBHOOK_EVENT_CHOICES.map((choice) => choice.event),
      [...WEBHOOK_EVENTS],
    );
  });

  test('the header’s notice: none without a webhook; a short line and a sentence with one', () => {
    assert.equal(webhookNotice(null), null);
    const notice = webhookNotice(['message', 'edit']);
    assert.equal(notice?.short, 'Sent to a webhook: messages and edits');
    assert.match(
      notice?.full ?? '',
      /^This room’s messages and edits are sent to a webhook .*outside this chat server/,
    );
  });

  test('a change, as its line says it', () => {
    assert.equal(webhookChange(null, null), null);
    assert.deepEqual(webhookChange(null, ['message']), { kind: 'set', events: ['message'] });
    assert.deepEqual(webhookChange(['message'], ['join']), { kind: 'changed', events: ['join'] });
    assert.deepEqual(webhookChange(['message'], null), { kind: 'removed' });
    assert.equal(
      webhookText(olga, { kind: 'set', events: ['message', 'edit'] }),
      'Olga set up a webhook: this room’s messages and edits are sent to it',
    );
    assert.equal(
      webhookText(olga, { kind: 'changed', events: ['join', 'leave'] }),
      'Olga changed the room’s webhook: its arrivals and departures are sent to it',
    );
    assert.equal(
      webhookText(olga, { kind: 'removed' }),
      'Olga removed the room’s webhook: nothing is sent to it any more',
    );
  });

  test('chosen events go out in the protocol’s order, each once', () => {
    assert.deepEqual(chosenEvents(['leave', 'message', 'leave', 'bogus']), ['message', 'leave']);
    assert.equal(sameEvents(['a', 'b'], ['b', 'a']), true);
    assert.equal(sameEvents(['a'], ['a', 'b']), false);
  });
});

describe('webhook: the URL the owner types', () => {
  test('http(s), without credentials or spaces, at most 2048 characters', () => {
    assert.deepEqual(checkWebhookUrl('  https://hooks.example.com/p?x=1 '), {
      ok: true,
      url: 'https://hooks.example.com/p?x=1',
    });
    assert.equal(checkWebhookUrl('').ok, false);
    assert.equal(checkWebhookUrl('ftp://example.com/').ok, false);
    assert.equal(checkWebhookUrl('https://user:pw@example.com/').ok, false);
    assert.equal(checkWebhookUrl('example.com/hook').ok, false);
    const long = checkWebhookUrl(`https://example.com/${'a'.repeat(2100)}`);
    assert.equal(long.ok, false);
    assert.match(long.ok ? '' : long.message, /2048/);
  });
});

describe('webhook: deliveries as the owner sees them', () => {
  const deliveries = {
    delivered: 41,
    failed: 1,
    retried: 3,
    dropped: 0,
    queued: 2,
    last: { at: 1, deliveryId: 'd_1', event: 'message', attempt: 1, status: 200 },
    failures: [{ at: 0, deliveryId: 'd_0', event: 'message', attempt: 5, error: 'status 503' }],
  };

  test('counts and attempts in words', () => {
    assert.equal(deliveryCounts(deliveries), '41 delivered, 1 failed, 3 retried, 0 dropped, 2 waiting');
    assert.equal(attemptOutcome(deliveries.last), 'HTTP 200');
    assert.equal(attemptOutcome(deliveries.failures[0]!), 'status 503');
    assert.equal(attemptOutcome({ ...deliveries.failures[0]!, retry: true }), 'status 503 (will retry)');
    assert.equal(
      attemptOutcome({ at: 0, deliveryId: 'd', event: 'edit', attempt: 1, status: 404, error: 'refused' }),
      'HTTP 404: refused',
    );
    assert.equal(attemptFailed(deliveries.last), false);
    assert.equal(attemptFailed(deliveries.failures[0]!), true);
    assert.equal(attemptFailed({ at: 0, deliveryId: 'd', event: 'edit', attempt: 1, status: 410 }), true);
  });

  test('the dialog never keeps the secret with the webhook, and keeps the counts of the same URL', () => {
    const held: RoomWebhook = { events: ['message'], url: 'https://h.example/…', deliveries };
    const answer: RoomWebhook = { events: ['message', 'join'], url: 'https://h.example/…', secret: 'whsec_x' };
    assert.deepEqual(shownWebhook(held, answer), {
      events: ['message', 'join'],
      url: 'https://h.example/…',
      deliveries,
    });
    assert.deepEqual(shownWebhook(held, { events: ['edit'], url: 'https://other.example/' }), {
      events: ['edit'],
      url: 'https://other.example/',
    });
    assert.equal(shownWebhook(held, null), null);
    assert.equal(shownWebhook(undefined, { events: ['edit'], secret: 's' })?.secret, undefined);
  });
});

describe('webhook: what frames do to the room', () => {
  test('a welcome says whether the room has one; without changes in its stretch, no line', () => {
    let outcome = apply(fresh(), welcome({ webhook: { events: ['message', 'edit'] } }));
    assert.deepEqual(outcome.state.webhook, ['message', 'edit']);
    assert.equal(outcome.state.timeline.entries.length, 0);
    const held = outcome.state.webhook;
    // The same events again keep the same list (nothing wakes up); none: null.
    outcome = apply(outcome.state, welcome({ webhook: { events: ['edit', 'message'] } }));
    assert.equal(outcome.state.webhook, held);
    outcome = apply(outcome.state, welcome());
    assert.equal(outcome.state.webhook, null);
  });

  test('the owner’s changes: set, changed, removed, each a line of the log in its place, and read out', () => {
    const start = apply(fresh(), welcome()).state;
    const outcome = apply(
      start,
      change(['message'], '100-0'),
      change(['message', 'join'], '200-0'),
      change(null, '300-0'),
    );
    assert.equal(outcome.state.webhook, null);
    const lines = outcome.state.timeline.entries.filter((entry) => entry.kind === 'webhook');
    assert.deepEqual(
      lines.map((line) => [line.frame.by.name, line.change.kind, line.frame.eventId]),
      [
        ['Olga', 'set', '100-0'],
        ['Olga', 'changed', '200-0'],
        ['Olga', 'removed', '300-0'],
      ],
    );
    assert.deepEqual(outcome.effects, [
      { kind: 'announce', text: 'Olga removed the room’s webhook: nothing is sent to it any more' },
    ]);
    assert.equal(outcome.state.timeline.cursor(), '300-0', 'a reconnect asks for what follows');
  });

  test('a welcome’s changes are lines, each against the one before; the same entry live again is no second line', () => {
    const changes = [change(['message'], '100-0'), change(['message', 'join'], '200-0'), change(null, '300-0')];
    // A first welcome (a reload): the changes of its stretch, the first against no webhook.
    let state = apply(
      fresh(),
      welcome({ history: [msg('50-0')], webhookChanges: changes, lastEventId: '300-0' }),
    ).state;
    const kinds = (s: RoomState) =>
      s.timeline.entries.map((entry) => (entry.kind === 'webhook' ? entry.change.kind : entry.kind));
    assert.deepEqual(kinds(state), ['message', 'set', 'changed', 'removed']);
    assert.equal(state.webhook, null, 'the state is the welcome’s');
    // The last one arrives live too (it was on its way): no second line, nothing read out.
    const again = apply(state, changes[2]!);
    assert.equal(again.timelineChanged, false);
    assert.deepEqual(again.effects, []);
    assert.deepEqual(kinds(again.state), ['message', 'set', 'changed', 'removed']);
    // A reconnect's welcome brings the one made while away, described against the state held.
    state = { ...again.state, askedSince: '300-0' };
    state = apply(
      state,
      welcome({ recovered: true, webhook: { events: ['edit'] }, webhookChanges: [change(['edit'], '400-0')] }),
    ).state;
    assert.deepEqual(kinds(state), ['message', 'set', 'changed', 'removed', 'set']);
    assert.deepEqual(state.webhook, ['edit']);
  });

  test('a first welcome’s first change is worded by what the owner did: its state before is not known here', () => {
    const kinds = (s: RoomState) =>
      s.timeline.entries.map((entry) => (entry.kind === 'webhook' ? entry.change.kind : entry.kind));
    // Set up long before the history's stretch; in it, only the events changed, then removed.
    const changes = [{ ...change(['message', 'join'], '100-0'), action: 'events' as const }, change(null, '200-0')];
    const state = apply(
      fresh(),
      welcome({ history: [msg('50-0')], webhookChanges: changes, lastEventId: '200-0' }),
    ).state;
    assert.deepEqual(kinds(state), ['message', 'changed', 'removed']);
    // A server that does not say what was done: taken as a set-up, as before.
    const older = apply(
      fresh(),
      welcome({ history: [msg('50-0')], webhookChanges: [change(['message'], '100-0')], lastEventId: '100-0' }),
    ).state;
    assert.deepEqual(kinds(older), ['message', 'set']);
  });

  test('a removal of none is no line', () => {
    const start = apply(fresh(), welcome()).state;
    const outcome = apply(start, change(null, '100-0'));
    assert.equal(outcome.timelineChanged, false);
    assert.equal(outcome.state.timeline.entries.length, 0);
  });

  test('the answer to the owner’s request goes to its dialog, and changes nothing else', () => {
    let state = apply(fresh(), welcome({ you: { ...olga, role: 'owner' } })).state;
    state = { ...state, requests: withRequest(state.requests, 'w1', { state: 'sending' }) };
    const webhook: RoomWebhook = { events: ['message'], url: 'https://h.example/…', secret: 'whsec_1' };
    // The answer comes before the notice: the line still says the webhook was set.
    let outcome = apply(state, { type: 'webhook', webhook, clientMsgId: 'w1' });
    assert.deepEqual(outcome.state.requests.get('w1'), { state: 'done', webhook: { webhook } });
    assert.equal(outcome.state.webhook, null);
    assert.equal(outcome.timelineChanged, false);
    outcome = apply(outcome.state, change(['message'], '100-0'));
    assert.deepEqual(
      outcome.state.timeline.entries.map((entry) => (entry.kind === 'webhook' ? entry.change.kind : entry.kind)),
      ['set'],
    );
    // An answer whose dialog closed (forgotten request) is dropped.
    const dropped = apply(outcome.state, { type: 'webhook', webhook: null, clientMsgId: 'gone' });
    assert.equal(dropped.state, outcome.state);
  });

  test('a refusal of the owner’s request goes to its dialog with the server’s words', () => {
    let state = apply(fresh(), welcome({ you: { ...olga, role: 'owner' } })).state;
    state = { ...state, requests: withRequest(state.requests, 'w2', { state: 'sending' }) };
    const message =
      'The webhook URL is refused: 10.0.0.1 is a private address. This server calls public addresses only.';
    const outcome = apply(state, { type: 'error', code: 'webhook_url_refused', message, clientMsgId: 'w2' });
    assert.deepEqual(outcome.state.requests.get('w2'), { state: 'failed', message });
    assert.equal(outcome.state.serverProblem, null);
  });
});
