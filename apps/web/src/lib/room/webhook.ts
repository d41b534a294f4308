/**
 * A room's webhook as the web app shows it: which of the room's events leave the server (everyone
 * is told, by the welcome and by `webhook` frames), what a change of it says in the log, and what
 * the owner's webhook dialog offers and checks (the events to choose, the URL, how deliveries
 * went). Pure: apply-frame.ts applies these, the views show them.
 */
import {
  DEFAULT_ROOM_WEBHOOK_EVENTS,
  isWebhookUrl,
  WEBHOOK_EVENTS,
  WEBHOOK_URL_MAX_LENGTH,
  type DeliveryAttempt,
  type RoomWebhook,
  type RoomWebhookDeliveries,
  type User,
  type WebhookAction,
  type WebhookEventName,
} from '@parley/protocol';

/** The events of the room that go to its webhook (`null`: it has none), as everyone is told. */
export type WebhookEvents = readonly string[] | null;

/** What the owner's `webhook` request was answered with (`null`: the room has none). */
export interface WebhookAnswer {
  webhook: RoomWebhook | null;
}

/** One event the owner may choose, as the dialog offers it. */
export interface WebhookEventChoice {
  event: WebhookEventName;
  label: string;
  hint: string;
}

/** Every event the protocol allows, in its order, as the dialog's checkboxes name them. */
export const WEBHOOK_EVENT_CHOICES: readonly WebhookEventChoice[] = [
  { event: 'message', label: 'Messages', hint: 'each new message: its author and text' },
  { event: 'edit', label: 'Edits', hint: 'the new text of an edited message' },
  { event: 'delete', label: 'Deletions', hint: 'which message was deleted, and by whom' },
  { event: 'join', label: 'Arrivals', hint: 'who came into the room' },
  { event: 'leave', label: 'Departures', hint: 'who left the room' },
  { event: 'room.occupied', label: 'Room occupied', hint: 'the first person came into an empty room' },
  { event: 'room.vacated', label: 'Room empty', hint: 'the last person left' },
];

/** The events a new webhook starts with in the dialog: the server's default. */
export const DEFAULT_WEBHOOK_EVENTS: readonly WebhookEventName[] = DEFAULT_ROOM_WEBHOOK_EVENTS;

/** How the notice and the log name each event, in a list ("messages, edits and deletions"). */
const EVENT_WORDS: Record<WebhookEventName, string> = {
  message: 'messages',
  edit: 'edits',
  delete: 'deletions',
  join: 'arrivals',
  leave: 'departures',
  'room.occupied': 'when the room fills',
  'room.vacated': 'when it empties',
};

/**
 * The events, in words and in the protocol's order: "messages, edits and deletions". A name this
 * build does not know (a newer server) is shown as it is.
 */
export function eventWords(events: readonly string[]): string {
  const known = WEBHOOK_EVENTS.filter((event) => events.includes(event)).map((event) => EVENT_WORDS[event]);
  const unknown = events.filter((event) => !(WEBHOOK_EVENTS as readonly string[]).includes(event));
  const words = [...known, ...unknown];
  if (words.length <= 1) return words[0] ?? 'nothing';
  return `${words.slice(0, -1).join(', ')} and ${words.at(-1)!}`;
}

/** What the room's header says while its events leave the server: a short line and the whole sentence. */
export interface WebhookNotice {
  /** "Sent to a webhook: messages, edits and deletions" */
  short: string;
  /** The sentence for screen readers and the tooltip. */
  full: string;
}

/** The header's notice of a room whose events go to a webhook; `null` when none do. */
export function webhookNotice(events: WebhookEvents): WebhookNotice | null {
  if (events === null) return null;
  const words = eventWords(events);
  return {
    short: `Sent to a webhook: ${words}`,
    full: `This room’s ${words} are sent to a webhook the owner set up: a program outside this chat server receives them.`,
  };
}

/** A change of the room's webhook, as a line of the log says it. */
export type WebhookChange =
  /** The room had none and has one now, for these events. */
  | { kind: 'set'; events: readonly string[] }
  /** It had one and still has (other events, or a new URL): these events go to it now. */
  | { kind: 'changed'; events: readonly string[] }
  | { kind: 'removed' };

/**
 * What went from `before` to `after`; `null` when nothing did (both without a webhook). With
 * `before` unknown (the first change a welcome lists: the state before it is older than what the
 * welcome brought), what the log's entry says the owner did (`action`); entries of servers that
 * do not say are taken as a set-up or a removal.
 */
export function webhookChange(
  before: WebhookEvents | undefined,
  after: WebhookEvents,
  action?: WebhookAction,
): WebhookChange | null {
  if (before === undefined) {
    if (after === null) return { kind: 'removed' };
    return action === 'events' ? { kind: 'changed', events: after } : { kind: 'set', events: after };
  }
  if (after === null) return before === null ? null : { kind: 'removed' };
  return before === null ? { kind: 'set', events: after } : { kind: 'changed', events: after };
}

/**
 * What a line of the log says after the name of who changed it: "sends this room's messages and
 * edits to a webhook now", "changed the room's webhook: …", "removed the room's webhook".
 */
export function webhookWords(change: WebhookChange): string {
  switch (change.kind) {
    case 'set':
      return `set up a webhook: this room’s ${eventWords(change.events)} are sent to it`;
    case 'changed':
      return `changed the room’s webhook: its ${eventWords(change.events)} are sent to it`;
    case 'removed':
      return 'removed the room’s webhook: nothing is sent to it any more';
  }
}

/** The whole line as text, for screen readers and tests: "Olga removed the room's webhook: …". */
export function webhookText(by: Pick<User, 'name'>, change: WebhookChange): string {
  return `${by.name} ${webhookWords(change)}`;
}

/** Whether two lists name the same events (in any order). */
export function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((event) => b.includes(event));
}

/** The chosen events in the protocol's order, each once: what a `webhook` frame sends. */
export function chosenEvents(chosen: readonly string[]): WebhookEventName[] {
  return WEBHOOK_EVENTS.filter((event) => chosen.includes(event));
}

/** A URL the owner typed, checked as the server checks its form (where it points is the server's to judge). */
export function checkWebhookUrl(input: string): { ok: true; url: string } | { ok: false; message: string } {
  const url = input.trim();
  if (url === '') return { ok: false, message: 'Enter the URL the room’s events should be sent to.' };
  if (url.length > WEBHOOK_URL_MAX_LENGTH)
    return { ok: false, message: `The URL is too long: ${WEBHOOK_URL_MAX_LENGTH} characters at most.` };
  if (!isWebhookUrl(url))
    return {
      ok: false,
      message: 'Enter a URL that starts with https:// (or http://), without a user name or password.',
    };
  return { ok: true, url };
}

/** The counts of the owner's status, in words: "41 delivered, 1 failed, 3 retried, 0 dropped, 0 waiting". */
export function deliveryCounts(deliveries: RoomWebhookDeliveries): string {
  const { delivered, failed, retried, dropped, queued } = deliveries;
  return `${delivered} delivered, ${failed} failed, ${retried} retried, ${dropped} dropped, ${queued} waiting`;
}

/** How one attempt went: "HTTP 200", "status 503 (will retry)", "timed out". */
export function attemptOutcome(attempt: DeliveryAttempt): string {
  const what = attempt.error ?? (attempt.status !== undefined ? `HTTP ${attempt.status}` : 'sent');
  const shown =
    attempt.error !== undefined && attempt.status !== undefined && !attempt.error.includes(String(attempt.status))
      ? `HTTP ${attempt.status}: ${what}`
      : what;
  return attempt.retry === true ? `${shown} (will retry)` : shown;
}

/** Whether an attempt failed (an error, or a status other than 2xx). */
export function attemptFailed(attempt: DeliveryAttempt): boolean {
  return (
    attempt.error !== undefined || (attempt.status !== undefined && (attempt.status < 200 || attempt.status > 299))
  );
}

/**
 * The webhook the owner's dialog shows after an answer: the answer's, without its secret (the
 * dialog shows that once, apart); the counts held before when the answer has none and the URL
 * stayed (an answer to a change of events carries no counts).
 */
export function shownWebhook(held: RoomWebhook | null | undefined, answer: RoomWebhook | null): RoomWebhook | null {
  if (answer === null) return null;
  const { secret: _secret, ...shown } = answer;
  if (shown.deliveries === undefined && held?.deliveries !== undefined && held.url === shown.url)
    shown.deliveries = held.deliveries;
  return shown;
}
