import * as v from 'valibot';
import { ERROR_CODES } from './error-codes.ts';

/**
 * Sent by the server when it refuses something a client did. The connection stays open unless
 * a close frame follows. `clientMsgId` names the refused message when there is one.
 */
export const ErrorFrameSchema = v.object({
  type: v.literal('error'),
  code: v.picklist(ERROR_CODES),
  message: v.string(),
  clientMsgId: v.optional(v.string()),
});

/** An `error` frame. */
export type ErrorFrame = v.InferOutput<typeof ErrorFrameSchema>;
