/** Path of the WebSocket endpoint of a room, with the name percent-encoded as on the wire. */
export function chatSocketPath(room: string): string {
  return `/ws/chat/${encodeURIComponent(room)}/`;
}

/** Path of a room's page in the web app. */
export function roomPagePath(room: string): string {
  return `/chat/${encodeURIComponent(room)}/`;
}

/** Path of the lobby page in the web app. */
export const LOBBY_PATH = '/chat/';
