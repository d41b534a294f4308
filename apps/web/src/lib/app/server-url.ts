/**
 * Where the chat server lives, relative to the page. Pure functions, so they run under node:test.
 *
 * The SPA is normally served by the chat server itself (same origin). It can also be hosted
 * elsewhere (a CDN, another port) and pointed at the server with a build-time
 * `VITE_PARLEY_SERVER_URL` or, at run time, `window.PARLEY_CONFIG.serverUrl` from `config.js`.
 */

import { PROTOCOL_V1, tokenProtocol, type ConnectParams } from '@parley/protocol';

/** The parts of `window.location` the URL derivation needs. */
export interface PageLocation {
  protocol: string;
  host: string;
}

/** A validated server origin: `null` means "the page's own origin". */
export type ServerUrlResult = { ok: true; url: URL | null } | { ok: false; reason: string };

/**
 * Picks the configured server URL: the run-time value when `config.js` set one (an empty string
 * there deliberately means "same origin"), otherwise the build-time value.
 *
 * @param buildTime `import.meta.env.VITE_PARLEY_SERVER_URL`.
 * @param runtime `window.PARLEY_CONFIG?.serverUrl`; anything but a string is ignored.
 * @returns The raw URL text, '' for same origin.
 */
export function pickServerUrl(buildTime: string | undefined, runtime: unknown): string {
  if (typeof runtime === 'string') return runtime.trim();
  return (buildTime ?? '').trim();
}

/**
 * Validates a configured server URL.
 *
 * @param raw E.g. `https://chat.example.com` or `http://127.0.0.1:3000/parley`; '' for same origin.
 * @returns The parsed URL (`null` for same origin), or why it cannot be used.
 */
export function parseServerUrl(raw: string): ServerUrlResult {
  if (raw === '') return { ok: true, url: null };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: `The configured server URL "${raw}" is not an absolute URL.` };
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) {
    return {
      ok: false,
      reason: `The configured server URL "${raw}" must start with http://, https://, ws:// or wss://.`,
    };
  }
  if (url.search !== '' || url.hash !== '') {
    return { ok: false, reason: `The configured server URL "${raw}" must not have a query or a fragment.` };
  }
  return { ok: true, url };
}

/**
 * The WebSocket URL for a server path.
 *
 * @param server The parsed server URL, or `null` to use the page's origin.
 * @param page The page's location; an `https:` page gets `wss:` (browsers block mixed content).
 * @param path An absolute path such as `/ws/chat/lobby/`.
 * @returns E.g. `wss://chat.example.com/ws/chat/lobby/`.
 */
export function socketUrl(server: URL | null, page: PageLocation, path: string): string {
  if (server === null) {
    const scheme = page.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${page.host}${path}`;
  }
  const scheme = server.protocol === 'https:' || server.protocol === 'wss:' ? 'wss:' : 'ws:';
  return `${scheme}//${server.host}${joinPath(server.pathname, path)}`;
}

/**
 * The HTTP URL for a server path (health checks, a future REST API).
 *
 * @param server The parsed server URL, or `null` to use the page's origin.
 * @param path An absolute path such as `/healthz`.
 * @returns An absolute URL, or the bare path for same origin.
 */
export function httpUrl(server: URL | null, path: string): string {
  if (server === null) return path;
  const scheme = server.protocol === 'https:' || server.protocol === 'wss:' ? 'https:' : 'http:';
  return `${scheme}//${server.host}${joinPath(server.pathname, path)}`;
}

/**
 * Appends the room endpoint's `parley.v1` query parameters to a socket URL. The identity token is
 * not one of them: URLs end up in proxies' logs and the browser's history; it travels as a
 * subprotocol instead ({@link connectProtocols}).
 *
 * @param url E.g. from {@link socketUrl}.
 * @param params The display name, `since` when there is one, and an invite (invite-only rooms).
 * @returns E.g. `wss://chat.example.com/ws/chat/lobby/?name=Alice&since=17-0`.
 */
export function withConnectParams(url: string, params: Pick<ConnectParams, 'name' | 'since' | 'invite'>): string {
  const query = new URLSearchParams({ name: params.name });
  if (params.since !== undefined) query.set('since', params.since);
  if (params.invite !== undefined) query.set('invite', params.invite);
  return `${url}?${query}`;
}

/** What a subprotocol may be made of (an RFC 7230 token); the WebSocket constructor throws on anything else. */
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The subprotocols to offer: `parley.v1`, and the identity token as a second one when there is
 * a token. The server selects `parley.v1` and reads the token from the offer.
 *
 * @param token The token from the last welcome; one that could not be offered (damaged in
 *   storage) is left out, and the server hands out a new identity.
 */
export function connectProtocols(token: string | undefined): string[] {
  if (token === undefined || token === '') return [PROTOCOL_V1];
  const offered = tokenProtocol(token);
  return SUBPROTOCOL.test(offered) ? [PROTOCOL_V1, offered] : [PROTOCOL_V1];
}

// A server mounted under a prefix (`https://example.com/parley`) keeps that prefix.
function joinPath(prefix: string, path: string): string {
  return prefix.replace(/\/+$/, '') + path;
}
