/**
 * Every code an `error` frame can carry. Codes are stable: clients branch on them, people read
 * the accompanying `message`.
 */
export const ERROR_CODES = [
  /** The frame was not valid JSON. */
  'bad_json',
  /** The JSON did not match any frame the server accepts. */
  'bad_frame',
  /** The frame or the message text exceeds a configured limit. */
  'too_large',
  /** The sender is over its message rate; retry later. */
  'rate_limited',
  /** The message bus (Redis) is unreachable; the message was not sent, resend it later. */
  'unavailable',
  /** The room name in the URL is not valid; the connection is closed. */
  'invalid_room',
  /** The display name (`name` query parameter) is missing or not valid; the connection is closed. */
  'invalid_name',
  /** The `since` query parameter is not a message id; the connection is closed. */
  'invalid_since',
  /** An unexpected server fault; the message was not sent. */
  'internal',
] as const;

/** A stable error code; see {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * WebSocket close codes Parley uses, in the application range 4000–4999. A client that sees
 * one of these should not blindly reconnect to the same URL, except for `goingAway`.
 */
export const CLOSE_CODES = {
  /** The request is invalid (room name, display name or `since`); an `error` frame says which. */
  badRequest: 4400,
  /** Same as badRequest; kept for clients written against the first protocol. */
  invalidRoom: 4400,
  /** The server is shutting down; reconnect (to another instance). */
  goingAway: 1001,
  /** The server is restarting or being redeployed; reconnect (after a short random delay). */
  serviceRestart: 1012,
  /** The server could not join the room (message bus unreachable); reconnect later. */
  tryAgainLater: 1013,
  /** The client read too slowly and its send buffer overflowed; reconnect and recover. */
  slowConsumer: 4008,
  /** The server lost messages it could not recover for this socket; reconnect with `since`. */
  resync: 4009,
  /** Too many connections from this address or in total; retry later. */
  tooManyConnections: 4029,
} as const;

/** Limits shared by client and server, so the web app can warn before the server refuses. */
export const LIMITS = {
  /** Longest message text, in UTF-8 bytes. */
  maxTextBytes: 4096,
} as const;
