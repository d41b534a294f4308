/**
 * Where the chat server lives, relative to the page. Pure functions, so they run under node:test;
 * the addresses themselves (HTTP and WebSocket bases, the socket's query, the subprotocols) are
 * `@parley/client`'s.
 *
 * The SPA is normally served by the chat server itself (same origin). It can also be hosted
 * elsewhere (a CDN, another port) and pointed at the server with a build-time
 * `VITE_PARLEY_SERVER_URL` or, at run time, `window.PARLEY_CONFIG.serverUrl` from `config.js`.
 */

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
 * The address to give `@parley/client` (`serverBase`, the HTTP helpers): the configured server,
 * or the page's own origin. Its scheme picks the WebSocket's: an `https:` page gets `wss:`
 * (browsers block mixed content), and a path prefix (`https://example.com/parley`) is kept.
 *
 * @param server The parsed server URL, or `null` to use the page's origin.
 * @param page The page's location.
 * @returns E.g. `https://chat.example.com/parley/` or `http://localhost:5173`.
 */
export function serverAddress(server: URL | null, page: PageLocation): string {
  return server === null ? `${page.protocol}//${page.host}` : server.href;
}
