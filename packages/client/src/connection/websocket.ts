/**
 * The WebSocket this client needs: the part of the platform's API that browsers, Node 22+ and the
 * `ws` package all have. Node 20 has no `WebSocket` global, so `ws` (a dependency of this package)
 * is loaded then, and only then. The import of `ws` is not in this module but in
 * `node-websocket.ts`, which only the package's Node entry (`index.ts`) imports: the browser
 * entry (`browser.ts`, the `browser` export condition) has no path to it, so a bundler neither
 * includes nor tries to resolve `ws`.
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

/** Loads a WebSocket class where the platform has none (the Node entry's: `ws`). */
export type WebSocketLoader = () => Promise<WebSocketConstructor>;

let fallback: WebSocketLoader | undefined;

/** Sets where a WebSocket class comes from when the platform has none (the Node entry sets `ws`). */
export function setFallbackWebSocket(loader: WebSocketLoader | undefined): void {
  fallback = loader;
}

/** The platform's WebSocket class (browsers, Node 22+), if it has one. */
export function platformWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/**
 * The WebSocket class to use: the one given, else the platform's, else `ws`'s (Node entry only).
 *
 * @param given The `WebSocket` option, if any.
 */
export async function resolveWebSocket(given: WebSocketConstructor | undefined): Promise<WebSocketConstructor> {
  const found = given ?? platformWebSocket();
  if (found !== undefined) return found;
  if (fallback === undefined)
    throw new Error('This platform has no WebSocket class: pass one as the WebSocket option.');
  return fallback();
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
