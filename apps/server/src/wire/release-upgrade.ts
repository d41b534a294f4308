import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';

/**
 * Lets the HTTP objects of a WebSocket's upgrade request be garbage-collected.
 *
 * @fastify/websocket routes the upgrade through Fastify with a stand-in ServerResponse assigned
 * to the TCP socket, and keeps the Fastify request and reply in a socket 'error' listener for
 * the socket's whole life. For an idle connection that is most of its memory (headers, request,
 * reply, response: several KiB each). Sessions attach their own 'error' listener, so the
 * plugin's can go, and the stand-in response is detached from the socket.
 *
 * Call it after the session has attached its listeners.
 *
 * @param socket The upgraded WebSocket.
 * @param keep The session's own error listener, which stays.
 */
export function releaseUpgradeRequest(socket: WebSocket, keep: (...args: any[]) => void): void {
  for (const listener of socket.listeners('error')) {
    if (listener !== keep) socket.off('error', listener as (...args: any[]) => void);
  }
  // `_socket` is ws' underlying net.Socket; `_httpMessage` is where Node keeps the response
  // assigned to it. Both are long-standing internals; if they change, this does nothing.
  const tcp = (socket as unknown as { _socket?: Socket & { _httpMessage?: ServerResponse | null } })._socket;
  const response = tcp?._httpMessage;
  if (tcp !== undefined && response) response.detachSocket(tcp);
}
