import { encodeReferenceMessage } from '@parley/protocol';
import type { BusEvent } from '../engine/engine.ts';

/**
 * One bus event on its way to every local socket of a room. Each wire encoding is serialised
 * and UTF-8 encoded at most once per instance, and the same bytes are written to every socket
 * that speaks it, so a broadcast to N sockets costs one encoding, not N.
 */
export class OutgoingEvent {
  private v1Cache: Buffer | undefined;
  private referenceCache: Buffer | undefined;

  constructor(readonly event: BusEvent) {}

  /** The `parley.v1` frame for this event, as UTF-8 bytes. */
  get v1Frame(): Buffer {
    this.v1Cache ??= Buffer.from(JSON.stringify(toV1(this.event)));
    return this.v1Cache;
  }

  /** The reference-protocol frame `{"message": text}`, or undefined: reference clients only get messages. */
  get referenceFrame(): Buffer | undefined {
    if (this.event.kind !== 'message') return undefined;
    this.referenceCache ??= Buffer.from(encodeReferenceMessage(this.event.message.text));
    return this.referenceCache;
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
