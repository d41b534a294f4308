/**
 * The HTTP API: pages of a room's history (older ones, or the newer ones that finish a recovery),
 * pages of the people in a room, and the list of active rooms. Answers are checked with the
 * protocol's schemas like frames are. A room's pages are read as the identity token says (an
 * invite-only room only by those it let in), sent as `Authorization: Bearer`, never in the URL.
 * A request is tried again, within bounds, after a 429 (as long as its Retry-After says), a 5xx
 * or a network failure; never after any other answer, which would not change.
 */
import {
  decodeWith,
  HistoryPageSchema,
  MemberPageSchema,
  ROOM_LIST_PATH,
  RoomListSchema,
  roomMembersPath,
  roomMessagesPath,
  type HistoryPage,
  type MemberPage,
  type RoomMessagesQuery,
  type RoomSummary,
} from '@parley/protocol';
import { backoffDelay, RETRY_BACKOFF, type BackoffOptions } from '../connection/backoff.ts';
import { ParleyError } from '../errors.ts';
import { serverBase } from './server-url.ts';

/** What this client uses of a `fetch` answer. */
export interface ResponseLike {
  readonly ok: boolean;
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  json(): Promise<unknown>;
}

/** What this client uses of `fetch`: the platform's (browsers, Node 18+) or one of your own. */
export type FetchLike = (
  url: string,
  init: { signal?: AbortSignal; headers: Record<string, string> },
) => Promise<ResponseLike>;

export interface HttpOptions {
  /** `globalThis.fetch` unless given. */
  fetch?: FetchLike;
  /**
   * The identity token (a welcome's `token`), sent as `Authorization: Bearer` with a room's
   * history and member pages: without it, only public rooms can be read.
   */
  token?: string;
  signal?: AbortSignal;
  /** Tries in all, the first included (3 unless given). */
  attempts?: number;
  /** A Retry-After longer than this is not waited for: the request fails at once (60 s unless given). */
  maxWaitMs?: number;
  /** Waits between tries when the server gave no Retry-After. */
  backoff?: BackoffOptions;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_MAX_WAIT_MS = 60_000;

/**
 * A page of a room's history: older messages (`before`), or newer ones (`after`), at most
 * `limit` (the server caps pages at 200 messages and 256 KiB).
 *
 * @param server The server's address, e.g. `http://localhost:3000`.
 * @throws ParleyError `http_error` (with `status` and `retryAfterMs`; 403 with `until` when
 *   banned, 403 for an invite-only room that did not let `options.token` in) or `bad_server_frame`.
 */
export async function fetchHistoryPage(
  server: string,
  room: string,
  query: RoomMessagesQuery,
  options: HttpOptions = {},
): Promise<HistoryPage> {
  return getChecked(`${serverBase(server).http}${roomMessagesPath(room, query)}`, options, 'a history page', (body) =>
    decodeWith(HistoryPageSchema, body),
  );
}

/**
 * A page of the people in a room (a big room's welcome lists only the first of them), from the
 * `cursor` the page before gave (none: the first page). `limit` is at most 100.
 *
 * @throws ParleyError `http_error` or `bad_server_frame`.
 */
export async function fetchMemberPage(
  server: string,
  room: string,
  query: { cursor?: string; limit?: number } = {},
  options: HttpOptions = {},
): Promise<MemberPage> {
  return getChecked(`${serverBase(server).http}${roomMembersPath(room, query)}`, options, 'a member page', (body) =>
    decodeWith(MemberPageSchema, body),
  );
}

/**
 * The active rooms, most active first (rooms their owner hid are not listed).
 *
 * @throws ParleyError `http_error` or `bad_server_frame`.
 */
export async function fetchActiveRooms(server: string, options: HttpOptions = {}): Promise<RoomSummary[]> {
  // The list is the same for everyone: no token goes with it.
  const { token: _token, ...anyone } = options;
  const list = await getChecked(`${serverBase(server).http}${ROOM_LIST_PATH}`, anyone, 'a room list', (body) =>
    decodeWith(RoomListSchema, body),
  );
  return list.rooms;
}

/**
 * A Retry-After header as a wait in ms: delta-seconds or an HTTP date.
 *
 * @returns The wait, or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before trying again after `error`, or `undefined` not to try again: a 429 as
 * its Retry-After says (when not too long), a network failure or a 5xx with backoff.
 */
export function retryDelay(error: unknown, attempt: number, options: HttpOptions = {}): number | undefined {
  if (!(error instanceof ParleyError) || error.code !== 'http_error') return undefined;
  const backoff = backoffDelay(attempt, options.backoff ?? RETRY_BACKOFF);
  if (error.status === 429) {
    const wait = error.retryAfterMs ?? backoff;
    return wait <= (options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS) ? wait : undefined;
  }
  if (error.status === undefined || error.status >= 500) return backoff;
  return undefined;
}

/** A GET answered with JSON that `decode` (the protocol's schema) accepts; `what` names it in the error. */
async function getChecked<T>(
  url: string,
  options: HttpOptions,
  what: string,
  decode: (body: unknown) => { ok: true; value: T } | { ok: false; message: string },
): Promise<T> {
  const decoded = decode(await getJson(url, options));
  if (!decoded.ok)
    throw new ParleyError(
      'bad_server_frame',
      `The server sent ${what} that does not match the protocol: ${decoded.message}`,
    );
  return decoded.value;
}

async function getJson(url: string, options: HttpOptions): Promise<unknown> {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS);
  for (let attempt = 0; ; attempt++) {
    try {
      return await getJsonOnce(url, options);
    } catch (error) {
      const wait = retryDelay(error, attempt, options);
      if (wait === undefined || attempt + 1 >= attempts || options.signal?.aborted === true) throw error;
      await sleep(wait, options.signal);
    }
  }
}

async function getJsonOnce(url: string, options: HttpOptions): Promise<unknown> {
  const doFetch: FetchLike = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  let response: ResponseLike;
  try {
    response = await doFetch(url, {
      headers: {
        accept: 'application/json',
        ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    throw new ParleyError('http_error', `Could not reach the server (${url}).`, { cause: error });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = isErrorBody(body) ? body.message : `HTTP ${response.status}`;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    // A ban's end, as a socket's `banned` error carries it.
    const until = isErrorBody(body) && typeof body.until === 'number' ? body.until : undefined;
    throw new ParleyError('http_error', `The server refused (${response.status}): ${message}`, {
      status: response.status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      ...(until === undefined ? {} : { until }),
    });
  }
  return body;
}

function isErrorBody(value: unknown): value is { message: string; until?: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
