/**
 * The app's configuration, read once at start-up from the build (`VITE_PARLEY_SERVER_URL`) and
 * from `config.js` (`window.PARLEY_CONFIG`), which deployments may overwrite.
 */
import { chatSocketPath, type ConnectParams } from '@parley/protocol';
import {
  httpUrl,
  parseServerUrl,
  pickServerUrl,
  socketUrl,
  withConnectParams,
  type ServerUrlResult,
} from './server-url.ts';

/**
 * The configured server's URL (`null`: the page's own origin), or why the configured one is
 * unusable.
 */
export const configuredServerUrl: ServerUrlResult = parseServerUrl(
  pickServerUrl(import.meta.env.VITE_PARLEY_SERVER_URL, window.PARLEY_CONFIG?.serverUrl),
);

export type UrlResult = { ok: true; url: string } | { ok: false; reason: string };

/**
 * The WebSocket URL of a room on the configured server.
 *
 * @param room A valid, normalized room name.
 * @param params The display name and `since` of this attempt (the token is not part of a URL).
 * @returns The URL, or the configuration problem.
 */
export function roomSocketUrl(room: string, params: Pick<ConnectParams, 'name' | 'since'>): UrlResult {
  if (!configuredServerUrl.ok) return configuredServerUrl;
  // An invite link (`/chat/<room>/?invite=…`) passes its invite on; the server lets the person
  // in for good, so later visits need none.
  const invite = new URLSearchParams(window.location.search).get('invite') ?? undefined;
  return {
    ok: true,
    url: withConnectParams(socketUrl(configuredServerUrl.url, window.location, chatSocketPath(room)), {
      ...params,
      invite,
    }),
  };
}

/**
 * The URL of an HTTP API path on the configured server.
 *
 * @param path E.g. `/api/rooms`.
 */
export function apiUrl(path: string): UrlResult {
  if (!configuredServerUrl.ok) return configuredServerUrl;
  return { ok: true, url: httpUrl(configuredServerUrl.url, path) };
}
