/**
 * @parley/client: a typed client for Parley's v1 protocol, for browsers and Node 20+. See
 * README.md. This is the Node entry (the `default` export condition): where the platform has no
 * `WebSocket` (Node 20), `ws` is loaded. Browsers get `browser.ts`, which has no path to `ws`.
 */
import { loadWsWebSocket } from './connection/node-websocket.ts';
import { setFallbackWebSocket } from './connection/websocket.ts';

setFallbackWebSocket(loadWsWebSocket);

export * from './api.ts';
