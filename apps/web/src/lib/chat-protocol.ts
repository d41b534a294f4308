/**
 * The wire format the web app speaks, behind one small interface so that the connection logic
 * (`room-connection.svelte.ts`) does not change when Parley moves from the reference protocol
 * to its own versioned one: a new protocol is a new object implementing {@link ChatProtocol}.
 */
import { decodeJson, decodeWith, ErrorFrameSchema, ReferenceServerFrameSchema } from '@parley/protocol';

/** Something the server told the client, already validated. */
export type ServerEvent =
  | { kind: 'message'; text: string }
  | { kind: 'error'; code: string; message: string }
  /** A frame this client does not understand; shown to nobody, logged to the console. */
  | { kind: 'unknown'; reason: string };

/** A chat wire protocol: how to say things to the server and how to read what it says. */
export interface ChatProtocol {
  /** A name for logs. */
  readonly name: string;
  /** WebSocket subprotocols to offer in the handshake; none for the reference protocol. */
  readonly subprotocols: readonly string[];
  /** Encodes a chat message the user typed. */
  encodeMessage(text: string): string;
  /** Decodes one received text frame; never throws. */
  decode(data: string): ServerEvent;
}

/**
 * The Django Channels tutorial's protocol: send `{"message": text}`, receive `{"message": text}`
 * for every message of the room (one's own included), plus Parley's `error` frames.
 */
export const referenceProtocol: ChatProtocol = {
  name: 'reference',
  subprotocols: [],
  encodeMessage(text) {
    return JSON.stringify({ message: text });
  },
  decode(data) {
    const json = decodeJson(data);
    if (!json.ok) return { kind: 'unknown', reason: json.message };
    const message = decodeWith(ReferenceServerFrameSchema, json.value);
    if (message.ok) return { kind: 'message', text: message.value.message };
    const error = decodeWith(ErrorFrameSchema, json.value);
    if (error.ok) return { kind: 'error', code: error.value.code, message: error.value.message };
    // A newer server may send an error code this build does not know yet; still show it.
    if (isLooseError(json.value)) return { kind: 'error', code: json.value.code, message: json.value.message };
    return { kind: 'unknown', reason: message.message };
  },
};

function isLooseError(value: unknown): value is { code: string; message: string } {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v['type'] === 'error' && typeof v['code'] === 'string' && typeof v['message'] === 'string';
}
