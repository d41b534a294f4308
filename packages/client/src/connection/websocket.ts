/**
 * The WebSocket this client needs: the part of the platform's API that browsers, Node 22+ and the
 * `ws` package all have. Node 20 has no `WebSocket` global, so `ws` (a dependency of this package)
 * is loaded then, and only then: a browser build never runs that import.
 */

/**
 * A handler type compared bivariantly (the way method parameters are), so that the DOM's
 * `(ev: MessageEvent) => any` and `ws`'s `(event: WebSocket.MessageEvent) => void` both fit.
 */
type Handler<E> = { bivarianceHack(event: E): void }['bivarianceHack'];

/** What this client uses of a WebSocket. */
export interface WebSocketLike {
  readonly readyState: number;
  /** The subprotocol the server selected ('' for none). */
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: Handler<unknown> | null;
  onmessage: Handler<{ data: unknown }> | null;
  onclose: Handler<{ code: number; reason: string }> | null;
  onerror: Handler<unknown> | null;
}

/** A WebSocket class: `globalThis.WebSocket`, `ws`'s, or one of your own (a proxy's, a test's). */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

/** `readyState` of an open socket (the same number everywhere). */
export const OPEN = 1;
/** `readyState` of a socket still connecting. */
export const CONNECTING = 0;

/**
 * The WebSocket class to use: the one given, else the platform's, else `ws`'s.
 *
 * @param given The `WebSocket` option, if any.
 */
export async function resolveWebSocket(given: WebSocketConstructor | undefined): Promise<WebSocketConstructor> {
  if (given !== undefined) return given;
  const platform = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (platform !== undefined) return platform;
  const module = (await import('ws')) as unknown as {
    default?: WebSocketConstructor;
    WebSocket?: WebSocketConstructor;
  };
  const found = module.WebSocket ?? module.default;
  if (found === undefined) throw new Error('The ws package did not export a WebSocket class.');
  return found;
}

/**
 * Calls `onPing` on every ping the server sends, where the socket shows pings (`ws` does, as an
 * EventEmitter; browsers and Node's own WebSocket answer pings without telling anyone).
 *
 * @returns Whether pings are visible on this socket.
 */
export function watchPings(socket: WebSocketLike, onPing: () => void): boolean {
  const emitter = socket as unknown as { on?: unknown };
  if (typeof emitter.on !== 'function') return false;
  (emitter.on as (event: string, listener: () => void) => void).call(socket, 'ping', onPing);
  return true;
}
