/**
 * The Parley wire protocol, shared by the server and the web app. Every frame is a valibot
 * schema with its inferred type; decoders return result objects and never throw.
 */
export * from './room-name.ts';
export * from './paths.ts';
export * from './error-codes.ts';
export * from './error-frame.ts';
export * from './reference-frames.ts';
export * from './text.ts';
export * from './display-name.ts';
export * from './message-id.ts';
export * from './v1-frames.ts';
export * from './codec.ts';
