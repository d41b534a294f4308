import * as v from 'valibot';
import { CLIENT_MSG_ID_PATTERN } from './message-id.ts';

// Every frame a client may send on `parley.v1`, one schema each, and their union.

const ClientMsgId = v.pipe(v.string(), v.regex(CLIENT_MSG_ID_PATTERN, 'must be 1–64 letters, digits, _ or -'));

/** Sends a chat message; the server answers with `ack` (or `error` carrying the clientMsgId). */
export const ClientMessageFrameSchema = v.object({
  type: v.literal('message'),
  text: v.string(),
  clientMsgId: ClientMsgId,
});
export type ClientMessageFrame = v.InferOutput<typeof ClientMessageFrameSchema>;

/** Tells the room this person is typing. */
export const ClientTypingFrameSchema = v.object({ type: v.literal('typing') });
export type ClientTypingFrame = v.InferOutput<typeof ClientTypingFrameSchema>;

/** Every frame a client may send on `parley.v1`. */
export const ClientFrameSchema = v.variant('type', [ClientMessageFrameSchema, ClientTypingFrameSchema]);
export type ClientFrame = v.InferOutput<typeof ClientFrameSchema>;
