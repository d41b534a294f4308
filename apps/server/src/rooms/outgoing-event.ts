import { encodeReferenceMessage } from '@parley/protocol';
import type { BusEvent } from '../engine/engine.ts';

/**
 * One bus event on its way to every local socket of a room. Each wire encoding is built at most
 * once per instance and the same string is written to every socket that speaks it, so a
 * broadcast costs one serialisation, not one per member.
 */
export class OutgoingEvent {
  private v1Cache: string | undefined;
  private referenceCache: string | undefined;

  constructor(readonly event: BusEvent) {}

  /** The `parley.v1` frame for this event. */
  get v1Frame(): string {
    this.v1Cache ??= JSON.stringify(toV1(this.event));
    return this.v1Cache;
  }

  /** The reference-protocol frame `{"message": text}`, or undefined: reference clients only get messages. */
  get referenceFrame(): string | undefined {
    if (this.event.kind !== 'message') return undefined;
    this.referenceCache ??= encodeReferenceMessage(this.event.message.text);
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
