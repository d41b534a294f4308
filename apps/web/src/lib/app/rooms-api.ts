/**
 * The server's HTTP API: the list of active rooms (lobby), pages of older messages (scroll-back)
 * and of newer ones (finishing a recovery the welcome cut short). Responses are validated with
 * the protocol's schemas like socket frames are. The paths are the protocol's (`ROOM_LIST_PATH`,
 * `roomMessagesPath`).
 */
import {
  decodeWith,
  HistoryPageSchema,
  isRoomName,
  MemberPageSchema,
  type MemberPage,
  RoomListSchema,
  type HistoryPage,
  type RoomSummary,
} from '@parley/protocol';

type Fetch = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

/**
 * A request that failed on the way or was refused. Thrown with a sentence for people; the
 * status and Retry-After tell {@link withRetry} whether and when to try again.
 */
export class ApiError extends Error {
  /**
   * @param status The HTTP status, or `null` when the server could not be reached.
   * @param retryAfterMs What the server's Retry-After asked for, if anything.
   */
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A Retry-After header as a wait in ms: delta-seconds or an HTTP date.
 *
 * @param now The current time (ms), for a date.
 * @returns The wait, or `undefined` when absent or unreadable.
 */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1_000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Fetches the active rooms; throws an Error with a sentence for people on any failure. */
export async function fetchRoomList(
  url: string,
  options: { fetch?: Fetch; signal?: AbortSignal } = {},
): Promise<RoomSummary[]> {
  const body = await getJson(url, options);
  const list = decodeWith(RoomListSchema, body);
  if (!list.ok) throw new Error(`The server sent a room list this app does not understand (${list.message}).`);
  // A room kept from an earlier release under a name that is no longer canonical (`Lobby`,
  // from before names were case-folded) cannot be opened: its link leads to `lobby`. Left out.
  return list.value.rooms.filter((summary) => isRoomName(summary.room));
}

/** Fetches a page of messages (older or newer); throws an Error with a sentence for people on any failure. */
export async function fetchMessagePage(
  url: string,
  options: { fetch?: Fetch; signal?: AbortSignal } = {},
): Promise<HistoryPage> {
  const body = await getJson(url, options);
  const page = decodeWith(HistoryPageSchema, body);
  if (!page.ok) throw new Error(`The server sent messages this app does not understand (${page.message}).`);
  return page.value;
}

/** Fetches a page of the people present (a big room's welcome lists only the first); throws like the others. */
export async function fetchMemberPage(
  url: string,
  options: { fetch?: Fetch; signal?: AbortSignal } = {},
): Promise<MemberPage> {
  const body = await getJson(url, options);
  const page = decodeWith(MemberPageSchema, body);
  if (!page.ok) throw new Error(`The server sent a member list this app does not understand (${page.message}).`);
  return page.value;
}

/** Fetches a page of older messages (scroll-back); see {@link fetchMessagePage}. */
export const fetchOlderMessages = fetchMessagePage;

async function getJson(url: string, options: { fetch?: Fetch; signal?: AbortSignal }): Promise<unknown> {
  const doFetch: Fetch = options.fetch ?? ((u, init) => fetch(u, init));
  let response: Response;
  try {
    response = await doFetch(url, { signal: options.signal, headers: { accept: 'application/json' } });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError('Could not reach the server.', null);
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = isErrorBody(body) ? body.message : `HTTP ${response.status}`;
    throw new ApiError(
      `The server refused: ${message}`,
      response.status,
      parseRetryAfter(response.headers.get('retry-after')),
    );
  }
  return body;
}

function isErrorBody(value: unknown): value is { message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
