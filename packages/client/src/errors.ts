/**
 * One error type for everything that can go wrong: a refusal from the server (its `error` frame's
 * code, `until`, `retryAfterMs`), an HTTP refusal, and what the client itself decides (the outbox
 * is full, the server never answered, the room was closed).
 */
import type { ErrorCode, ErrorFrame } from '@parley/protocol';

/** Codes the client gives errors it detects itself (the server's codes are `ErrorCode`s). */
export const CLIENT_ERROR_CODES = [
  /** The outbox holds as many unanswered requests as it may (see `outbox.maxSize`). */
  'outbox_full',
  /** The server did not answer a request in time, however many times it was sent. */
  'timeout',
  /** The room was closed (by `close()`, or for good by the server) before the request was answered. */
  'closed',
  /** The server closed the connection for good (4400, 4403 or 1008) with no error frame saying why. */
  'refused',
  /** The server does not speak `parley.v1` (it selected no subprotocol). */
  'protocol_not_supported',
  /** A frame from the server did not match the protocol; it was ignored. */
  'bad_server_frame',
  /** An HTTP request failed (see `status` and `retryAfterMs`). */
  'http_error',
  /** The missed messages could not all be fetched: a gap remains. */
  'recovery_failed',
  /** An event listener threw (the error is the `cause`). */
  'listener_failed',
] as const;

export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * A server code this client knows, one of its own, or (from a newer server) a code neither
 * knows: `(string & {})` keeps the known ones suggested while accepting any.
 */
export type ParleyErrorCode = ErrorCode | ClientErrorCode | (string & {});

/** What an error may say besides its code and message. */
export interface ParleyErrorDetails {
  /** The request it answers. */
  clientMsgId?: string;
  /** `banned`, `muted` (and an HTTP 403 `banned`): when it ends (ms since the epoch); absent: until lifted. */
  until?: number;
  /** `slow_mode` (from the server), HTTP 429 (from Retry-After): how long to wait before trying again. */
  retryAfterMs?: number;
  /** `http_error`: the HTTP status (absent when the server could not be reached). */
  status?: number;
  /** The WebSocket close code that ended the room, if one did. */
  closeCode?: number;
  /** The server's error frame, when the error is one. */
  frame?: ErrorFrame | LooseErrorFrame;
  cause?: unknown;
}

/** An `error` frame with a code this build of the protocol does not know (a newer server's). */
export interface LooseErrorFrame {
  type: 'error';
  code: string;
  message: string;
  clientMsgId?: string;
  until?: number;
  retryAfterMs?: number;
}

export class ParleyError extends Error {
  readonly code: ParleyErrorCode;
  readonly clientMsgId: string | undefined;
  readonly until: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly status: number | undefined;
  readonly closeCode: number | undefined;
  readonly frame: ErrorFrame | LooseErrorFrame | undefined;

  constructor(code: ParleyErrorCode, message: string, details: ParleyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.clientMsgId = details.clientMsgId;
    this.until = details.until;
    this.retryAfterMs = details.retryAfterMs;
    this.status = details.status;
    this.closeCode = details.closeCode;
    this.frame = details.frame;
  }

  /** The error a server's `error` frame stands for. */
  static fromFrame(frame: ErrorFrame | LooseErrorFrame): ParleyError {
    return new ParleyError(frame.code, frame.message, {
      frame,
      ...(frame.clientMsgId === undefined ? {} : { clientMsgId: frame.clientMsgId }),
      ...(frame.until === undefined ? {} : { until: frame.until }),
      ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }),
    });
  }
}
