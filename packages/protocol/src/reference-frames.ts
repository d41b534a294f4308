import * as v from 'valibot';

/**
 * What a client of the reference protocol (the Django Channels tutorial page) sends:
 * `{"message": "text"}`. Other keys are ignored, as the reference ignores them.
 */
export const ReferenceClientFrameSchema = v.looseObject({ message: v.string() });

/** A frame sent by a reference-protocol client. */
export type ReferenceClientFrame = v.InferOutput<typeof ReferenceClientFrameSchema>;

/** What a reference-protocol client receives for every chat message of its room, its own included. */
export const ReferenceServerFrameSchema = v.strictObject({ message: v.string() });

/** A chat message as a reference-protocol client receives it. */
export type ReferenceServerFrame = v.InferOutput<typeof ReferenceServerFrameSchema>;
