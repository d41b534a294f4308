import * as v from 'valibot';
import { ClientFrameSchema, type ClientFrame } from './client-frames.ts';
import type { ErrorCode } from './error-codes.ts';
import { MAX_PURGE_SECONDS, purgeWindowSeconds } from './moderation.ts';
import {
  ReferenceClientFrameSchema,
  type ReferenceClientFrame,
  type ReferenceServerFrame,
} from './reference-frames.ts';
import { fail, ok, type Result } from './result.ts';
import { ServerFrameSchema, type ErrorFrame, type ServerFrame } from './server-frames.ts';

/** A decoded value, or the error code and sentence to send back. Decoders never throw. */
export type Decoded<T> = Result<T, ErrorCode>;

/**
 * Parses JSON without throwing.
 *
 * @param text A text frame.
 * @returns The parsed value, or `bad_json`.
 */
export function decodeJson(text: string): Decoded<unknown> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch {
    return fail('bad_json', 'Frame is not valid JSON.');
  }
}

/**
 * Validates a value against a schema, turning the first issue into a readable `bad_frame`.
 *
 * @param schema A valibot schema.
 * @param value The parsed JSON.
 * @returns The typed value, or `bad_frame` with the path and problem.
 */
export function decodeWith<S extends v.GenericSchema>(schema: S, value: unknown): Decoded<v.InferOutput<S>> {
  const result = v.safeParse(schema, value);
  if (result.success) return ok(result.output);
  const issue = result.issues[0];
  const path = issue.path?.map((p) => String(p.key)).join('.') ?? '';
  return fail('bad_frame', path ? `${path}: ${issue.message}` : issue.message);
}

/**
 * Decodes a frame from a reference-protocol client.
 *
 * @param text The received text frame.
 * @returns `{message}`, or why it is refused.
 */
export function decodeReferenceClientFrame(text: string): Decoded<ReferenceClientFrame> {
  const json = decodeJson(text);
  if (!json.ok) return json;
  const frame = decodeWith(ReferenceClientFrameSchema, json.value);
  if (!frame.ok) {
    return fail('bad_frame', `Expected {"message": "<text>"}; ${frame.message}`);
  }
  return frame;
}

/**
 * Encodes a chat message for a reference-protocol client, exactly as the reference does.
 *
 * @param text The chat text.
 * @returns The JSON text frame.
 */
export function encodeReferenceMessage(text: string): string {
  const frame: ReferenceServerFrame = { message: text };
  return JSON.stringify(frame);
}

/**
 * Encodes an `error` frame.
 *
 * @param code The stable error code.
 * @param message A sentence for people.
 * @param clientMsgId The refused message's client id, if any.
 * @param extra `until` for `banned` and `muted` (when it ends, ms; 0 or none: until lifted);
 *   `retryAfterMs` for `slow_mode`.
 * @returns The JSON text frame.
 */
export function encodeError(
  code: ErrorCode,
  message: string,
  clientMsgId?: string,
  extra: { until?: number | undefined; retryAfterMs?: number | undefined; scope?: 'server' | undefined } = {},
): string {
  const frame: ErrorFrame =
    clientMsgId === undefined ? { type: 'error', code, message } : { type: 'error', code, message, clientMsgId };
  if (extra.until !== undefined && extra.until > 0) frame.until = extra.until;
  if (extra.retryAfterMs !== undefined) frame.retryAfterMs = extra.retryAfterMs;
  if (extra.scope !== undefined) frame.scope = extra.scope;
  return JSON.stringify(frame);
}

/**
 * Decodes a frame from a `parley.v1` client.
 *
 * @param text The received text frame.
 * @returns A message or typing frame, or why it is refused.
 */
export function decodeClientFrame(text: string): Decoded<ClientFrame> {
  const json = decodeJson(text);
  if (!json.ok) return json;
  const frame = decodeWith(ClientFrameSchema, json.value);
  // (A bound of one action's field: the variant of frames cannot hold a check across fields.)
  if (
    frame.ok &&
    frame.value.type === 'moderate' &&
    frame.value.action === 'purge' &&
    purgeWindowSeconds(frame.value.durationSeconds) === undefined
  )
    return fail('bad_frame', `durationSeconds: a purge reaches back at most ${MAX_PURGE_SECONDS} seconds (7 days).`);
  if (frame.ok && frame.value.type === 'webhook' && frame.value.url === null && frame.value.events !== undefined)
    return fail('bad_frame', 'events: a webhook being removed (url: null) takes no events.');
  return frame;
}

/**
 * Decodes a frame the server sent on `parley.v1` (used by the web app and tests).
 *
 * @param text The received text frame.
 * @returns The typed frame, or why it does not match the protocol.
 */
export function decodeServerFrame(text: string): Decoded<ServerFrame> {
  const json = decodeJson(text);
  if (!json.ok) return json;
  return decodeWith(ServerFrameSchema, json.value);
}

/**
 * Encodes any frame as JSON text. Typed, so only frames of the protocol can be encoded.
 *
 * @param frame A server or client frame.
 * @returns The JSON text frame.
 */
export function encodeFrame(frame: ServerFrame | ClientFrame): string {
  return JSON.stringify(frame);
}
