/**
 * Where a Parley server is: one base address (`http://localhost:3000`, `https://chat.example.com`,
 * or the same behind a path prefix) gives both the HTTP API's base and the WebSocket's.
 */
import { chatSocketPath, type ConnectParams } from '@parley/protocol';

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
 * token never goes here (URLs end up in logs): it is a subprotocol (see `tokenProtocol`).
 */
export function roomSocketUrl(base: ServerBase, room: string, params: Omit<ConnectParams, 'token'>): string {
  const query = [`name=${encodeURIComponent(params.name)}`];
  if (params.since !== undefined) query.push(`since=${encodeURIComponent(params.since)}`);
  if (params.invite !== undefined) query.push(`invite=${encodeURIComponent(params.invite)}`);
  return `${base.ws}${chatSocketPath(room)}?${query.join('&')}`;
}
