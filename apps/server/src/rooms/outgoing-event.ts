import { encodeReferenceMessage } from '@parley/protocol';
import type { BusEvent } from '../engine/engine.ts';
import { concatFrames, encodeTextFrame, type EncodedFrames } from '../sessions/wire-frame.ts';

/**
 * One bus event on its way to every local socket of a room. Each wire encoding is serialised,
 * UTF-8 encoded and framed at most once per instance, and the same bytes are written to every
 * socket that speaks it, so a broadcast to N sockets costs one encoding and N writes.
 */
export class OutgoingEvent {
  private v1Cache: EncodedFrames | undefined;
  private referenceCache: EncodedFrames | undefined;

  constructor(readonly event: BusEvent) {}

  /** The `parley.v1` frame for this event. */
  get v1(): EncodedFrames {
    this.v1Cache ??= encodeTextFrame(JSON.stringify(toV1(this.event)));
    return this.v1Cache;
  }

  /** The reference-protocol frame `{"message": text}`, or undefined: reference clients only get messages. */
  get reference(): EncodedFrames | undefined {
    if (this.event.kind !== 'message') return undefined;
    this.referenceCache ??= encodeTextFrame(encodeReferenceMessage(this.event.message.text));
    return this.referenceCache;
  }

  /** For presence and typing: the person they are about (their own sockets do not get them). */
  get aboutUser(): string | undefined {
    return this.event.kind === 'message' ? undefined : this.event.user.id;
  }
}

/**
 * The events of one room that reach its sockets together: what the hub received for the room
 * during one turn of the event loop (presence and typing alone wait a little longer). A socket
 * that takes the whole batch gets all its frames in one write, so a burst of k events costs
 * each socket one system call instead of k.
 */
export class OutgoingBatch {
  private v1Cache: EncodedFrames | undefined;
  private referenceCache: EncodedFrames | null | undefined;
  /** People that presence or typing events of the batch are about, if any. */
  readonly aboutUsers: ReadonlySet<string> | undefined;
  readonly messageCount: number;

  constructor(readonly events: readonly OutgoingEvent[]) {
    let about: Set<string> | undefined;
    let messages = 0;
    for (const event of events) {
      const user = event.aboutUser;
      if (user === undefined) messages += 1;
      else (about ??= new Set()).add(user);
    }
    this.aboutUsers = about;
    this.messageCount = messages;
  }

  /** Every event's `parley.v1` frame, in order. */
  get v1(): EncodedFrames {
    this.v1Cache ??= concatFrames(this.events.map((e) => e.v1));
    return this.v1Cache;
  }

  /** The reference frames of the batch's messages, in order, or undefined when it has none. */
  get reference(): EncodedFrames | undefined {
    if (this.referenceCache === undefined) {
      const parts = this.events.map((e) => e.reference).filter((e): e is EncodedFrames => e !== undefined);
      this.referenceCache = parts.length === 0 ? null : concatFrames(parts);
    }
    return this.referenceCache ?? undefined;
  }
}

function toV1(event: BusEvent) {
  switch (event.kind) {
    case 'message':
      return event.message;
    case 'typing':
      return { type: 'typing', user: event.user };
    default:
      return { type: event.kind, user: event.user, ts: event.ts };
  }
}
