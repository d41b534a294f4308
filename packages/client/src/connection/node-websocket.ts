/**
 * `ws`'s WebSocket class, for Node 20 (no `WebSocket` global). Imported by the Node entry only
 * (`index.ts`); the browser entry has no path to this module, so bundlers never see `ws`.
 */
import type { WebSocketConstructor } from './websocket.ts';

/** Loads `ws` (a dependency of this package) and returns its WebSocket class. */
export async function loadWsWebSocket(): Promise<WebSocketConstructor> {
  const module = (await import('ws')) as unknown as {
    default?: WebSocketConstructor;
    WebSocket?: WebSocketConstructor;
  };
  const found = module.WebSocket ?? module.default;
  if (found === undefined) throw new Error('The ws package did not export a WebSocket class.');
  return found;
}
