/**
 * The server's HTTP API: the list of active rooms (lobby) and pages of older messages
 * (scroll-back). Responses are validated with the protocol's schemas like socket frames are.
 */
import { decodeWith, HistoryPageSchema, RoomListSchema, type HistoryPage, type RoomSummary } from '@parley/protocol';

/** `GET /api/rooms`: the active rooms, most active first. */
export const ROOM_LIST_PATH = '/api/rooms';

/**
 * The path of the page of messages before `before` in a room.
 *
 * @param room A valid room name (percent-encoded here).
 * @param before The oldest message id held.
 * @param limit Messages per page (1–200); by default the server's page size, as in a welcome.
 */
export function olderMessagesPath(room: string, before: string, limit?: number): string {
  const query = new URLSearchParams({ before });
  if (limit !== undefined) query.set('limit', String(limit));
  return `/api/rooms/${encodeURIComponent(room)}/messages?${query}`;
}

type Fetch = (url: string, init?: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

/** Fetches the active rooms; throws an Error with a sentence for people on any failure. */
export async function fetchRoomList(url: string, options: { fetch?: Fetch; signal?: AbortSignal } = {}): Promise<RoomSummary[]> {
  const body = await getJson(url, options);
  const list = decodeWith(RoomListSchema, body);
  if (!list.ok) throw new Error(`The server sent a room list this app does not understand (${list.message}).`);
  return list.value.rooms;
}

/** Fetches a page of older messages; throws an Error with a sentence for people on any failure. */
export async function fetchOlderMessages(url: string, options: { fetch?: Fetch; signal?: AbortSignal } = {}): Promise<HistoryPage> {
  const body = await getJson(url, options);
  const page = decodeWith(HistoryPageSchema, body);
  if (!page.ok) throw new Error(`The server sent messages this app does not understand (${page.message}).`);
  return page.value;
}

async function getJson(url: string, options: { fetch?: Fetch; signal?: AbortSignal }): Promise<unknown> {
  const doFetch: Fetch = options.fetch ?? ((u, init) => fetch(u, init));
  let response: Response;
  try {
    response = await doFetch(url, { signal: options.signal, headers: { accept: 'application/json' } });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new Error('Could not reach the server.');
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const message = isErrorBody(body) ? body.message : `HTTP ${response.status}`;
    throw new Error(`The server refused: ${message}`);
  }
  return body;
}

function isErrorBody(value: unknown): value is { message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}
