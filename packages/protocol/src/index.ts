/**
 * The Parley wire protocol, shared by the server and the web app. Every frame is a valibot
 * schema with its inferred type; checks and decoders return one Result shape and never throw.
 */
export * from './result.ts';
export * from './limits.ts';
export * from './error-codes.ts';
export * from './room-name.ts';
export * from './display-name.ts';
export * from './names.ts';
export * from './message-id.ts';
export * from './text.ts';
export * from './emoji.ts';
export * from './moderation.ts';
export * from './paths.ts';
export * from './server-frames.ts';
export * from './client-frames.ts';
export * from './connect.ts';
export * from './http-bodies.ts';
export * from './http-params.ts';
export * from './deliveries.ts';
export * from './operator.ts';
export * from './bots.ts';
export * from './integrations.ts';
export * from './mentions.ts';
export * from './reference-frames.ts';
export * from './room-events.ts';
export * from './codec.ts';
