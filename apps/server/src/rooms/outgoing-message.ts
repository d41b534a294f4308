import { encodeReferenceMessage } from '@parley/protocol';
import type { BusMessage } from '../engine/engine.ts';

/**
 * One message on its way to every local socket of a room. Each wire encoding is built at most
 * once per instance and the same string is written to every socket that speaks it, so the
 * cost of a broadcast does not grow with serialisation work per member.
 */
export class OutgoingMessage {
  private referenceCache: string | undefined;

  constructor(readonly message: BusMessage) {}

  /** The frame a reference-protocol client receives: `{"message": text}`. */
  get referenceFrame(): string {
    this.referenceCache ??= encodeReferenceMessage(this.message.text);
    return this.referenceCache;
  }
}
