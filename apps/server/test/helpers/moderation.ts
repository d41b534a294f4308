import { tokenProtocol } from '@parley/protocol';
import { nextOfType, requestV1, TestClient } from './ws-client.ts';

// Small helpers of the moderation tests (issue "Rooms people can protect").

let counter = 0;
/** A fresh clientMsgId. */
export const nextId = (): string => `m${Date.now().toString(36)}_${counter++}`;

/** Sends a `moderate` frame and returns the server's answer about it (ack or error). */
export const moderate = (
  client: TestClient,
  action: string,
  userId: string,
  extra: Record<string, unknown> = {},
): Promise<any> => requestV1(client, { type: 'moderate', action, userId, ...extra }, nextId());

/** Sends a `settings` frame and returns the server's answer about it (ack or error). */
export const configure = (client: TestClient, changes: Record<string, unknown>): Promise<any> =>
  requestV1(client, { type: 'settings', ...changes }, nextId());

/** Sends a message and returns the server's answer about it (ack or error). */
export const send = (client: TestClient, text: string): Promise<any> =>
  requestV1(client, { type: 'message', text }, nextId());

/** Reads a client's frames until the `moderation` event of `action` (earlier ones are skipped), within `timeoutMs`. */
export async function moderationEvent(client: TestClient, action: string, timeoutMs = 5000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const event = await nextOfType(client, 'moderation', Math.max(1, deadline - Date.now()));
    if (event.action === action) return event;
  }
}

/** How a connection attempt ended: its welcome, or the error frame and close code that refused it. */
export type Entry = { welcome: any; client: TestClient } | { refused: any; code: number };

/** Opens a `parley.v1` socket to a room and returns its welcome, or the error and close code that refused it. */
export async function enter(
  wsUrl: string,
  room: string,
  options: { name: string; token?: string; localAddress?: string; forwardedFor?: string },
): Promise<Entry> {
  const protocols = ['parley.v1', ...(options.token !== undefined ? [tokenProtocol(options.token)] : [])];
  const client = await TestClient.connect(
    `${wsUrl}/ws/chat/${encodeURIComponent(room)}/?name=${encodeURIComponent(options.name)}`,
    {
      protocols,
      ...(options.localAddress !== undefined ? { localAddress: options.localAddress } : {}),
      ...(options.forwardedFor !== undefined ? { forwardedFor: options.forwardedFor } : {}),
    },
  );
  const first = await client.next(5000);
  if (first.type === 'welcome') return { welcome: first, client };
  return { refused: first, code: (await client.waitClose(5000)).code };
}
