// Where things are: the WebSocket endpoint, the HTTP API and the web app's pages. Route
// patterns (with `:room`) are what the server registers; the functions build concrete paths.

/** The room endpoint's route pattern (trailing slash optional on the wire). */
export const CHAT_SOCKET_ROUTE = '/ws/chat/:room/';

/** Path of the WebSocket endpoint of a room, with the name percent-encoded as on the wire. */
export function chatSocketPath(room: string): string {
  return `/ws/chat/${encodeURIComponent(room)}/`;
}

/** `GET`: the active rooms (`RoomList`). */
export const ROOM_LIST_PATH = '/api/rooms';

/** The room history route pattern: `GET` a `HistoryPage`. */
export const ROOM_MESSAGES_ROUTE = '/api/rooms/:room/messages';

/** Which page of a room's history to fetch. */
export type RoomMessagesQuery = { before?: string; after?: string; limit?: number };

/**
 * Path of a page of a room's history.
 *
 * @param room The room name (percent-encoded here).
 * @param query `before` (older messages) or `after` (newer ones), and the page size.
 */
export function roomMessagesPath(room: string, query: RoomMessagesQuery = {}): string {
  // (No URLSearchParams: the package uses the language alone, for browsers and Node alike.)
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
  return `/api/rooms/${encodeURIComponent(room)}/messages${params.length === 0 ? '' : `?${params.join('&')}`}`;
}

/** The member list route pattern: `GET` a `MemberPage`. */
export const ROOM_MEMBERS_ROUTE = '/api/rooms/:room/members';

/** A member page's cursor (`MemberPage.cursor`): decimal digits, opaque to clients. */
export const MEMBER_CURSOR_PATTERN = /^[0-9]{1,20}$/;

/**
 * Path of a page of the people present in a room.
 *
 * @param room The room name (percent-encoded here).
 * @param query `cursor` from the previous page (none: the first page), and the page size.
 */
export function roomMembersPath(room: string, query: { cursor?: string; limit?: number } = {}): string {
  const params = Object.entries(query)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${encodeURIComponent(String(value))}`);
  return `/api/rooms/${encodeURIComponent(room)}/members${params.length === 0 ? '' : `?${params.join('&')}`}`;
}

/** `GET`: the HTTP API described as an OpenAPI 3.1 document. */
export const OPENAPI_PATH = '/api/openapi.json';

/** Path of a room's page in the web app. */
export function roomPagePath(room: string): string {
  return `/chat/${encodeURIComponent(room)}/`;
}

/** Path of the lobby page in the web app. */
export const LOBBY_PATH = '/chat/';
