/**
 * The app's configuration, read once at start-up from the build (`VITE_PARLEY_SERVER_URL`) and
 * from `config.js` (`window.PARLEY_CONFIG`), which deployments may overwrite.
 */
import { roomSocketUrl as socketUrlIn, serverBase, type ServerBase } from '@parley/client';
import type { ConnectParams } from '@parley/protocol';
import { parseServerUrl, pickServerUrl, serverAddress, type ServerUrlResult } from './server-url.ts';

/**
 * The configured server's URL (`null`: the page's own origin), or why the configured one is
 * unusable.
 */
export const configuredServerUrl: ServerUrlResult = parseServerUrl(
  pickServerUrl(import.meta.env.VITE_PARLEY_SERVER_URL, window.PARLEY_CONFIG?.serverUrl),
);

export type UrlResult = { ok: true; url: string } | { ok: false; reason: string };

/** The configured server's address, for `@parley/client` (the page's origin unless configured). */
export function serverUrl(): UrlResult {
  const server = configuredServer();
  return server.ok ? { ok: true, url: server.url } : server;
}

function configuredServer(): { ok: true; url: string; base: ServerBase } | { ok: false; reason: string } {
  if (!configuredServerUrl.ok) return configuredServerUrl;
  const url = serverAddress(configuredServerUrl.url, window.location);
  try {
    return { ok: true, url, base: serverBase(url) };
  } catch (error) {
    // A page that is not on http(s) and names no server.
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The WebSocket URL of a room on the configured server.
 *
 * @param room A valid, normalized room name.
 * @param params The display name and `since` of this attempt (the token is not part of a URL).
 * @returns The URL, or the configuration problem.
 */
export function roomSocketUrl(room: string, params: Pick<ConnectParams, 'name' | 'since'>): UrlResult {
  const server = configuredServer();
  if (!server.ok) return server;
  // An invite link (`/chat/<room>/?invite=…`) passes its invite on; the server lets the person
  // in for good, so later visits need none.
  const invite = new URLSearchParams(window.location.search).get('invite') ?? undefined;
  return {
    ok: true,
    url: socketUrlIn(server.base, room, { ...params, invite }),
  };
}

/**
 * The URL of an HTTP API path on the configured server.
 *
 * @param path E.g. `/api/rooms`.
 */
export function apiUrl(path: string): UrlResult {
  const server = configuredServer();
  return server.ok ? { ok: true, url: `${server.base.http}${path}` } : server;
}
