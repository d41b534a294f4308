/** Settings shared by the servers playwright.config.ts starts and the ones specs start themselves. */

/** Messages in a welcome and in a scroll-back page on the test servers. */
export const HISTORY_PAGE_SIZE = 20;

/** Messages in the welcome of a reconnect with `since` on the test servers (more: fetched in pages). */
export const RECOVERY_PAGE_SIZE = 30;

/** The operator's token on the test servers (the /admin page's spec signs in with it). */
export const E2E_ADMIN_TOKEN = 'e2e-operator-token-0123456789abcdef';

/** Server environment that every test server gets, on top of its port and engine. */
export const TEST_SERVER_ENV = {
  // A small page, so that scroll-back is tested with few messages.
  HISTORY_PAGE_SIZE: String(HISTORY_PAGE_SIZE),
  // A small recovery welcome, so that finishing a recovery over HTTP is tested with few messages.
  RECOVERY_PAGE_SIZE: String(RECOVERY_PAGE_SIZE),
  // Every test browser connects from 127.0.0.1: shared per-address allowances (messages, frames,
  // new connections, HTTP requests, history bytes) would let one spec's traffic throttle another's, and the
  // suite opens far more connections a second than one person would. Per-connection limits still
  // apply; the per-address limits have server tests of their own.
  RATE_LIMIT_PER_IP: '0',
  FRAME_RATE_PER_IP: '0',
  CONNECT_RATE_PER_IP: '0',
  HTTP_RATE_PER_IP: '0',
  HISTORY_BYTES_PER_IP: '0',
  ADMIN_TOKEN: E2E_ADMIN_TOKEN,
  // e2e/room-webhooks.spec.ts sets a room's webhook to a receiver it runs on 127.0.0.1, which a
  // server open to anyone refuses (a room's owner is whoever posted first).
  ROOM_WEBHOOK_ALLOW_PRIVATE: '1',
} as const;
