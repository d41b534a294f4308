import type { RoomEvent } from '@parley/protocol';
import { concatFrames, encodeTextFrame, type EncodedFrames } from '../wire/frames.ts';
import { encodeReference, encodeV1, isChatMessage, skippedFor } from './room-events.ts';

/**
 * One room event on its way to every local socket of a room. Each wire encoding is serialised,
 * UTF-8 encoded and framed at most once per instance, and the same bytes are written to every
 * socket that speaks it, so a broadcast to N sockets costs one encoding and N writes.
 */
export class OutgoingEvent {
  private v1Cache: EncodedFrames | undefined;
  private referenceCache: EncodedFrames | null | undefined;

  constructor(readonly event: RoomEvent) {}

  /** The `parley.v1` frame for this event. */
  get v1(): EncodedFrames {
    this.v1Cache ??= encodeTextFrame(encodeV1(this.event));
    return this.v1Cache;
  }

  /** The reference-protocol frame, or undefined when reference clients do not get this event. */
  get reference(): EncodedFrames | undefined {
    if (this.referenceCache === undefined) {
      const text = encodeReference(this.event);
      this.referenceCache = text === undefined ? null : encodeTextFrame(text);
    }
    return this.referenceCache ?? undefined;
  }

  /** The person whose own sockets do not get this event (see room-events.ts), if any. */
  get skippedFor(): string | undefined {
    return skippedFor(this.event);
  }
}

/**
 * The events of one room that reach its sockets together: what the hub gathered for the room
 * (see docs/architecture.md, "Batching"). A socket that takes the whole batch gets all its
 * frames in one write, so a burst of k events costs each socket one system call instead of k.
 */
export class OutgoingBatch {
  private v1Cache: EncodedFrames | undefined;
  private referenceCache: EncodedFrames | null | undefined;
  /** People whose own sockets must skip some event of the batch, if any. */
  readonly skippedFor: ReadonlySet<string> | undefined;
  /** Chat messages in the batch (for the message counters). */
  readonly messageCount: number;

  constructor(readonly events: readonly OutgoingEvent[]) {
    let skipped: Set<string> | undefined;
    let messages = 0;
    for (const event of events) {
      const user = event.skippedFor;
      if (user !== undefined) (skipped ??= new Set()).add(user);
      if (isChatMessage(event.event)) messages += 1;
    }
    this.skippedFor = skipped;
    this.messageCount = messages;
  }

  /** Every event's `parley.v1` frame, in order. */
  get v1(): EncodedFrames {
    this.v1Cache ??= concatFrames(this.events.map((e) => e.v1));
    return this.v1Cache;
  }

  /** The reference frames of the batch's events, in order, or undefined when it has none. */
  get reference(): EncodedFrames | undefined {
    if (this.referenceCache === undefined) {
      const parts = this.events.map((e) => e.reference).filter((e): e is EncodedFrames => e !== undefined);
      this.referenceCache = parts.length === 0 ? null : concatFrames(parts);
    }
    return this.referenceCache ?? undefined;
  }
}
