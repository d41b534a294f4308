/**
 * Where a Parley server is: one base address (`http://localhost:3000`, `https://chat.example.com`,
 * or the same behind a path prefix) gives both the HTTP API's base and the WebSocket's.
 */
import { chatSocketPath, PROTOCOL_V1, tokenProtocol, type ConnectParams } from '@parley/protocol';

export interface ServerBase {
  /** `http(s)://host[:port][/prefix]`, without a trailing slash. */
  http: string;
  /** `ws(s)://host[:port][/prefix]`, without a trailing slash. */
  ws: string;
}

const SCHEMES: Record<string, { http: string; ws: string }> = {
  'http:': { http: 'http:', ws: 'ws:' },
  'ws:': { http: 'http:', ws: 'ws:' },
  'https:': { http: 'https:', ws: 'wss:' },
  'wss:': { http: 'https:', ws: 'wss:' },
};

/**
 * The HTTP and WebSocket bases of a server address.
 *
 * @param server `http://`, `https://`, `ws://` or `wss://`, with an optional path prefix.
 * @throws TypeError when it is not such an address.
 */
export function serverBase(server: string): ServerBase {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new TypeError(`Not a server address: "${server}" (expected e.g. http://localhost:3000).`);
  }
  const schemes = SCHEMES[url.protocol];
  if (schemes === undefined) throw new TypeError(`Not a server address: "${server}" (use http, https, ws or wss).`);
  const prefix = url.pathname.replace(/\/+$/, '');
  return { http: `${schemes.http}//${url.host}${prefix}`, ws: `${schemes.ws}//${url.host}${prefix}` };
}

/**
 * The address of a room's WebSocket for `parley.v1`: name, `since` and invite in the query. The
 * token never goes here (URLs end up in logs and the browser's history): it is a subprotocol
 * (see {@link connectProtocols}).
 */
export function roomSocketUrl(base: ServerBase, room: string, params: Omit<ConnectParams, 'token'>): string {
  const query = [`name=${encodeURIComponent(params.name)}`];
  if (params.since !== undefined) query.push(`since=${encodeURIComponent(params.since)}`);
  if (params.invite !== undefined) query.push(`invite=${encodeURIComponent(params.invite)}`);
  return `${base.ws}${chatSocketPath(room)}?${query.join('&')}`;
}

/** What a subprotocol may be made of (an RFC 7230 token); the WebSocket constructor throws on anything else. */
const SUBPROTOCOL = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The subprotocols to offer: `parley.v1`, and the identity token as a second one when there is
 * a token. The server selects `parley.v1` and reads the token from the offer.
 *
 * @param token The token from the last welcome; one that could not be offered (damaged in
 *   storage, say) is left out, and the server hands out a new identity, rather than the
 *   WebSocket constructor throwing.
 */
export function connectProtocols(token: string | undefined): string[] {
  if (token === undefined || token === '') return [PROTOCOL_V1];
  const offered = tokenProtocol(token);
  return SUBPROTOCOL.test(offered) ? [PROTOCOL_V1, offered] : [PROTOCOL_V1];
}
