/**
 * The server's HTTP API as the web app uses it: the list of active rooms (lobby), pages of
 * messages (scroll-back, and the rest of a recovery the welcome cut short) and pages of the
 * people present. The requests are `@parley/client`'s (the protocol's paths and schemas; a 429
 * is tried again as its Retry-After says, a 5xx or a network failure after a backoff); what the
 * web adds is which tries it allows, the rooms it can link to, the reader's token on a room's
 * pages, and failures as sentences for people ({@link ApiError}, which the operator's page uses
 * too).
 */
import {
  fetchActiveRooms,
  fetchHistoryPage,
  fetchMemberPage as fetchMembers,
  ParleyError,
  type FetchLike,
} from '@parley/client';
import {
  isRoomName,
  type HistoryPage,
  type MemberPage,
  type RoomMessagesQuery,
  type RoomSummary,
} from '@parley/protocol';

export { parseRetryAfter } from '@parley/client';

/** Which `fetch` to use (the platform's unless given), an abort, and who asks. */
export interface RequestOptions {
  fetch?: FetchLike;
  signal?: AbortSignal;
  /**
   * The identity token, sent with a room's pages as `Authorization: Bearer` (an invite-only
   * room is read only by its people; a banned person not at all). Not sent with the room list.
   */
  token?: string | undefined;
}

/**
 * A request that failed on the way or was refused, with a sentence for people. The status is
 * `null` when the server could not be reached.
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
 * Tries of a page of messages or members: a server that says "too many requests" is asked again
 * when it says, a few times at most.
 */
const PAGE_ATTEMPTS = 4;

/**
 * The active rooms. Tried once: the lobby asks again every few seconds anyway.
 *
 * @param server The server's address (see `serverUrl` in config.ts).
 */
export async function fetchRoomList(server: string, options: RequestOptions = {}): Promise<RoomSummary[]> {
  const rooms = await forPeople(fetchActiveRooms(server, { ...options, attempts: 1 }));
  // A room kept from an earlier release under a name that is no longer canonical (`Lobby`,
  // from before names were case-folded) cannot be opened: its link leads to `lobby`. Left out.
  return rooms.filter((summary) => isRoomName(summary.room));
}

/** A page of a room's messages: older ones (`before`) or newer ones (`after`). */
export function fetchMessagePage(
  server: string,
  room: string,
  query: RoomMessagesQuery,
  options: RequestOptions = {},
): Promise<HistoryPage> {
  return forPeople(fetchHistoryPage(server, room, query, { ...options, attempts: PAGE_ATTEMPTS }));
}

/** A page of the people present (a big room's welcome lists only the first), from a cursor. */
export function fetchMemberPage(
  server: string,
  room: string,
  cursor: string | undefined,
  options: RequestOptions = {},
): Promise<MemberPage> {
  const query = cursor === undefined ? {} : { cursor };
  return forPeople(fetchMembers(server, room, query, { ...options, attempts: PAGE_ATTEMPTS }));
}

/** An HTTP failure as an {@link ApiError}; anything else (an abort, an answer not understood) as it is. */
async function forPeople<T>(request: Promise<T>): Promise<T> {
  try {
    return await request;
  } catch (error) {
    if (!(error instanceof ParleyError) || error.code !== 'http_error') throw error;
    // The client's sentence names the URL, which is no help to people.
    const message = error.status === undefined ? 'Could not reach the server.' : error.message;
    throw new ApiError(message, error.status ?? null, error.retryAfterMs);
  }
}
