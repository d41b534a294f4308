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
  /** The sender is over its message or frame rate; retry later. */
  'rate_limited',
  /** The sender's address used up its daily message quota; the message was not sent. */
  'quota_exceeded',
  /** A clientMsgId was sent again with a different text; the new text was not sent. */
  'client_msg_id_reused',
  /** No such message in this room's retained history (to edit, delete, react to or reply to). */
  'not_found',
  /**
   * Not yours to do: the message is someone else's (only its author may edit it, and only its
   * author, the owner and moderators may delete it), or the moderation action is above your role.
   */
  'forbidden',
  /** The message is older than the edit window (EDIT_WINDOW_SECONDS); it can still be deleted. */
  'edit_window_closed',
  /** The message has as many distinct reactions (or reactions in all) as it may hold. */
  'too_many_reactions',
  /** A moderator removed you from the room (the connection is closed with 4403); you may come back. */
  'kicked',
  /** You are banned from the room until `until` (absent: until lifted); the connection is closed with 4403. */
  'banned',
  /** You are muted in the room until `until` (absent: until lifted): nothing you send is posted. */
  'muted',
  /**
   * The room is invite-only and you have no (valid, unexpired) invite for it: the connection is
   * closed with 4403. Ask its owner or a moderator for one.
   */
  'invite_required',
  /**
   * The room is invite-only and has let in as many people as it keeps (ROOM_ADMITTED_MAX): your
   * invite is valid, but lets no one new in until the owner makes room (turning invite-only off
   * and on again). The connection is closed with 4403. Whoever was let in already gets in.
   */
  'room_full',
  /** The room is in slow mode: you may post again in `retryAfterMs` (the message was not sent). */
  'slow_mode',
  /** The room is read-only: only its owner and moderators may post. */
  'read_only',
  /**
   * The server's message check (the operator's before-publish hook) refused the message or
   * edit; `message` gives its reason. Nothing was stored: sending it again gets the same answer.
   */
  'rejected',
  /** The person to moderate is not in the room (kick, ban, mute, promote and transfer need them present). */
  'not_present',
  /**
   * A room webhook's URL cannot be used: its host is, or resolves to, an address this server
   * does not call (loopback, private, link-local or otherwise not public), or does not resolve;
   * `message` says which.
   */
  'webhook_url_refused',
  /**
   * The server keeps as many room webhooks as it takes (MAX_ROOM_WEBHOOKS); try again later. Also
   * when the owner's address has set as many of the rooms' webhooks as one address may
   * (ROOM_WEBHOOKS_PER_ADDRESS): remove one of them first. `message` says which bound it is.
   */
  'too_many_webhooks',
  /**
   * The message bus (Redis) is unreachable or did not answer in time; the message may not have
   * been sent. Resend it with the same clientMsgId: that is always safe (it is stored once).
   * Also when the server's message check (the before-publish hook) could not be asked and the
   * operator chose to post nothing unchecked (BEFORE_PUBLISH_FAILURE=closed): nothing was stored.
   */
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
 * WebSocket close codes the server sends. Clients reconnect (with `since`, after a backoff) on
 * every code except `badRequest`, which needs a different URL, `policyViolation`, which needs
 * the client to behave differently first, and `removed`, which needs the person to decide.
 */
export const CLOSE_CODES = {
  /** The client broke the protocol's rules (repeated invalid frames, a frame flood, too much sent before the welcome). */
  policyViolation: 1008,
  /** A frame over the payload limit (sent by the WebSocket library itself). */
  messageTooBig: 1009,
  /** The server is restarting or being redeployed; reconnect (after a short random delay). */
  serviceRestart: 1012,
  /** The server could not set up the room in time (message bus unreachable or slow); reconnect later. */
  tryAgainLater: 1013,
  /** The client read too slowly and its send buffer stayed full; reconnect and recover. */
  slowConsumer: 4008,
  /** The server lost messages it could not recover for this socket; reconnect with `since`. */
  resync: 4009,
  /** The request is invalid (room name, display name or `since`); an `error` frame says which. */
  badRequest: 4400,
  /** A moderator removed you from the room (`kicked`), or you are banned (`banned`): do not reconnect on your own. */
  removed: 4403,
} as const;

/**
 * Every `error` code an HTTP answer of the server can carry (`{"error": code, "message": …}`),
 * with its status. Clients branch on the code; the message is for people.
 */
export const HTTP_ERROR_CODES = {
  /** 400: a parameter is malformed (a message id, a page size). */
  bad_request: 400,
  /** 400: the room name in the path is not valid. */
  invalid_room: 400,
  /** 401: the endpoint needs a token (`/metrics` with METRICS_TOKEN set, `/api/admin/...` with ADMIN_TOKEN). */
  unauthorized: 401,
  /** 403: the operator's action is not allowed (for example, unbanning the operator itself). */
  forbidden: 403,
  /** 409: the action needs the person in the room and they are not there. */
  not_present: 409,
  /** 409: the server already keeps as many instance-wide bans as it takes (MAX_INSTANCE_BANS); lift some first. */
  too_many_bans: 409,
  /** 409: the server already has as many bots as it takes (MAX_BOTS); delete some first. */
  too_many_bots: 409,
  // A bot's post (`POST /api/rooms/<room>/messages`) is refused with the codes a socket's message
  // would get, each with its status:
  /** 413: the text is over MAX_TEXT_BYTES, or the request body over the endpoint's limit (MAX_PAYLOAD_BYTES). */
  too_large: 413,
  /** 403: the bot is banned from the room (or the server); `until` says until when. Also a room's read (history, members) by a banned id or address. */
  banned: 403,
  /** 403: the bot is muted in the room. */
  muted: 403,
  /** 403: the room is read-only. */
  read_only: 403,
  /** 403: the room is invite-only and the bot was never let in. Also a room's read by someone it never let in (or no one). */
  invite_required: 403,
  /** 422: the server's message check (the operator's before-publish hook) refused the text; `message` says why. */
  rejected: 422,
  /** 429: the room is in slow mode; see Retry-After. */
  slow_mode: 429,
  /** 429: the address's messages for today are used up. */
  quota_exceeded: 429,
  /** 409: the Idempotency-Key was used for a different text. */
  client_msg_id_reused: 409,
  /** 403: the page's origin may not use this server. */
  origin_not_allowed: 403,
  /** 404: no such route. */
  not_found: 404,
  /** 426: a WebSocket endpoint was asked over plain HTTP. */
  upgrade_required: 426,
  /** 429: too many requests or connections from this address; see Retry-After. */
  rate_limited: 429,
  /** 429: too many open connections from this address; see Retry-After. */
  too_many_connections: 429,
  /** 503: the server holds as many connections as it takes in total; see Retry-After. */
  server_full: 503,
  /** 503: the message bus (Redis) is unreachable, or a bot's post could not be checked (see the socket's `unavailable`); try again shortly. */
  unavailable: 503,
  /** 500: an unexpected server fault (no details are given). */
  internal: 500,
} as const;

/** A stable HTTP error code; see {@link HTTP_ERROR_CODES}. */
export type HttpErrorCode = keyof typeof HTTP_ERROR_CODES;
