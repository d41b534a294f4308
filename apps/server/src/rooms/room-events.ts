import { encodeFrame, encodeReferenceMessage, type RoomEvent, type ServerFrame } from '@parley/protocol';

// How the server treats each kind of room event (the kinds are defined once, in the protocol
// package's room-events.ts). Every question is one exhaustive switch: a new kind is a compile
// error here until it is decided, never a silent default.

/** The event as a `parley.v1` frame. */
export function toV1Frame(event: RoomEvent): ServerFrame {
  switch (event.kind) {
    case 'message':
      return event.message;
    case 'change':
      return event.change;
    case 'moderation':
      return event.moderation;
    case 'settings':
      return event.settings;
    case 'join':
    case 'leave':
      return { type: event.kind, user: event.user, ts: event.ts };
    case 'typing':
      return { type: 'typing', user: event.user };
    case 'presence':
      return { type: 'presence', count: event.count };
    case 'webhook':
      // Everyone sees which events leave the server, and who chose them; never where they go.
      return event.webhook;
    default:
      return unhandled(event);
  }
}

/** The event as JSON text for `parley.v1`. */
export function encodeV1(event: RoomEvent): string {
  return encodeFrame(toV1Frame(event));
}

/** The event as JSON text for the reference protocol, or undefined: it gets messages only. */
export function encodeReference(event: RoomEvent): string | undefined {
  switch (event.kind) {
    case 'message':
      // (A new message always has its text; only a deletion, a change of its own, removes it.)
      return encodeReferenceMessage(event.message.text ?? '');
    case 'change':
    case 'moderation':
    case 'settings':
      return undefined;
    case 'join':
    case 'leave':
    case 'presence':
    case 'typing':
    case 'webhook':
      return undefined;
    default:
      return unhandled(event);
  }
}

/**
 * The person an event is about when their own sockets must not get it, or undefined when
 * everyone in the room gets it (a message reaches the author's other tabs too). People are
 * not told about their own arrival, departure or typing: the welcome already lists them, and
 * their other tabs do not change their presence.
 */
export function skippedFor(event: RoomEvent): string | undefined {
  switch (event.kind) {
    case 'message':
    case 'change':
    case 'moderation':
    case 'settings':
    case 'presence':
    case 'webhook':
      return undefined;
    case 'join':
    case 'leave':
    case 'typing':
      return event.user.id;
    default:
      return unhandled(event);
  }
}

/**
 * How long an event may wait for others to share its write: `messages` go out at the end of
 * the turn (or within the busy-room window); `presence` waits up to the presence window, so a
 * reconnect storm does not cost every member a write per arrival.
 */
export function batchWindow(event: RoomEvent): 'messages' | 'presence' {
  switch (event.kind) {
    case 'message':
    case 'change':
    case 'moderation':
    case 'settings':
    case 'webhook':
      return 'messages';
    case 'join':
    case 'leave':
    case 'presence':
    case 'typing':
      return 'presence';
    default:
      return unhandled(event);
  }
}

/**
 * The event's place in the room's log (messages, changes, moderation, settings and webhook
 * changes are stored), or undefined for events that are not stored (presence, typing): the hub
 * orders and de-duplicates by it.
 */
export function logIdOf(event: RoomEvent): string | undefined {
  switch (event.kind) {
    case 'message':
      return event.message.id;
    case 'change':
      return event.change.eventId;
    case 'moderation':
      return event.moderation.eventId;
    case 'settings':
      return event.settings.eventId;
    case 'webhook':
      return event.webhook.eventId;
    case 'join':
    case 'leave':
    case 'presence':
    case 'typing':
      return undefined;
    default:
      return unhandled(event);
  }
}

/** Whether the event counts as a chat message (for the message counters). */
export function isChatMessage(event: RoomEvent): boolean {
  return event.kind === 'message';
}

function unhandled(event: never): never {
  throw new Error(`room event kind not handled: ${JSON.stringify(event)}`);
}
