/**
 * Decides whether a browser page from `origin` may use this server: its own origin always,
 * and those listed in ALLOWED_ORIGINS ('*' admits every origin). Requests without an Origin
 * header come from non-browser clients (curl, other servers, the load generator) and pass;
 * browsers always send one on WebSocket upgrades and cross-origin fetches.
 *
 * @param origin The request's Origin header.
 * @param host The request's Host header (the origin the server is reached at).
 * @param allowed The configured extra origins.
 * @returns True when the request may proceed.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
