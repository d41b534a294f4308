/**
 * Decides whether a browser page from `origin` may use this server. With PUBLIC_ORIGIN set, the
 * origins users load the app from are known: the page's origin must be one of them (scheme, host
 * and port) or one of ALLOWED_ORIGINS. Without it, the server's own origin is taken from the
 * request's Host header (an http(s) page on the same host and port; a DNS-rebinding page can
 * pass that check, which is why internet deployments should set PUBLIC_ORIGIN). '*' in
 * ALLOWED_ORIGINS admits every origin. Requests without an Origin header come from non-browser
 * clients (curl, other servers, the load generator) and pass; browsers always send one on
 * WebSocket upgrades and cross-origin fetches.
 *
 * @param origin The request's Origin header.
 * @param host The request's Host header (the origin the server is reached at).
 * @param allowed The configured extra origins.
 * @param publicOrigins The configured public origins (empty: compare with Host).
 * @returns True when the request may proceed.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: readonly string[],
  publicOrigins: readonly string[] = [],
): boolean {
  if (origin === undefined || origin === '') return true;
  if (allowed.includes('*') || allowed.includes(origin)) return true;
  if (publicOrigins.length > 0) return publicOrigins.includes(origin);
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && host !== undefined && url.host === host;
  } catch {
    return false;
  }
}
