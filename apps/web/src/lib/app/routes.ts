/**
 * The app's URL space as a pure function of the path, so it can be unit-tested without a
 * browser. The reactive router (`router.svelte.ts`) only applies what this decides.
 */
import { LOBBY_PATH, parseRoomName, roomPagePath } from '@parley/protocol';

/** What a path shows. */
export type Route =
  | { name: 'lobby' }
  | { name: 'room'; room: string }
  | { name: 'admin' }
  | { name: 'invalid-room'; raw: string; reason: string }
  | { name: 'not-found'; path: string };

/** A route, and the canonical path to replace the current one with when they differ. */
export interface RouteMatch {
  route: Route;
  /** Set when the address bar should be rewritten (without a new history entry). */
  canonical?: string;
}

const ROOM_PATH = /^\/chat\/([^/]+)\/?$/;

/** The operator's page (rooms, instances, bans: see views/Admin.svelte). */
export const ADMIN_PAGE_PATH = '/admin/';

/**
 * Maps a path to its route.
 *
 * `/` and `/chat` lead to the lobby at `/chat/`; `/chat/<room>` and `/chat/<room>/` to the
 * room, with the name percent-decoded, NFC-normalized and re-encoded into its canonical path.
 *
 * @param pathname `location.pathname`, still percent-encoded.
 * @returns The route and, when the path is not canonical, the path to show instead.
 */
export function matchRoute(pathname: string): RouteMatch {
  if (pathname === LOBBY_PATH) return { route: { name: 'lobby' } };
  if (pathname === '/' || pathname === '/chat') return { route: { name: 'lobby' }, canonical: LOBBY_PATH };
  if (pathname === ADMIN_PAGE_PATH) return { route: { name: 'admin' } };
  if (pathname === '/admin') return { route: { name: 'admin' }, canonical: ADMIN_PAGE_PATH };

  const m = ROOM_PATH.exec(pathname);
  if (m === null) return { route: { name: 'not-found', path: safeDecode(pathname) ?? pathname } };

  const segment = m[1] ?? '';
  const raw = safeDecode(segment);
  if (raw === undefined) {
    return {
      route: {
        name: 'invalid-room',
        raw: segment,
        reason: 'The room name in the address is not valid percent-encoding.',
      },
    };
  }
  const parsed = parseRoomName(raw);
  if (!parsed.ok) return { route: { name: 'invalid-room', raw, reason: parsed.message } };

  const canonical = roomPagePath(parsed.value);
  const route: Route = { name: 'room', room: parsed.value };
  return canonical === pathname ? { route } : { route, canonical };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
