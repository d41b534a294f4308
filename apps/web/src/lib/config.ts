/**
 * The app's configuration, read once at start-up from the build (`VITE_PARLEY_SERVER_URL`) and
 * from `config.js` (`window.PARLEY_CONFIG`), which deployments may overwrite.
 */
import { chatSocketPath } from '@parley/protocol';
import { parseServerUrl, pickServerUrl, socketUrl, type ServerUrlResult } from './server-url.ts';

/** The server to talk to, or why the configured one is unusable. */
export const server: ServerUrlResult = parseServerUrl(
  pickServerUrl(import.meta.env.VITE_PARLEY_SERVER_URL, window.PARLEY_CONFIG?.serverUrl),
);

/**
 * The WebSocket URL of a room on the configured server.
 *
 * @param room A valid, normalized room name.
 * @returns The URL, or the configuration problem.
 */
export function roomSocketUrl(room: string): { ok: true; url: string } | { ok: false; reason: string } {
  if (!server.ok) return server;
  return { ok: true, url: socketUrl(server.url, window.location, chatSocketPath(room)) };
}
