import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import type { Config } from '../config.ts';

/** How often every socket is pinged; one that has not answered the previous ping is dropped. */
const PING_INTERVAL_MS = 30_000;

/** WebSocket support with Parley's limits; on shutdown every client is told to go elsewhere. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    await fastify.register(websocket, {
      options: {
        maxPayload: config.maxPayloadBytes,
        // Compression costs CPU and memory per socket, for chat frames of a few hundred bytes.
        perMessageDeflate: false,
        // Parley's own clients offer parley.v1; reference clients offer no subprotocol at all.
        // A client offering only protocols we do not speak gets none back, and its browser fails
        // the connection, as the WebSocket standard requires.
        handleProtocols: (offered: Set<string>) => (offered.has(PROTOCOL_V1) ? PROTOCOL_V1 : false),
      },
      preClose(done) {
        clearInterval(pinger);
        const server = fastify.websocketServer;
        for (const client of server.clients) client.close(CLOSE_CODES.goingAway, 'server shutting down');
        server.close(() => done());
      },
    });

    // A peer that vanished without a close (a laptop lid, a dropped NAT mapping) would hold its
    // socket, room membership and presence forever; pings find it, and keep proxies from timing
    // out idle connections.
    const alive = new WeakSet<WebSocket>();
    fastify.websocketServer.on('connection', (socket: WebSocket) => {
      alive.add(socket);
      socket.on('pong', () => alive.add(socket));
    });
    const pinger = setInterval(() => {
      for (const socket of fastify.websocketServer.clients) {
        if (!alive.has(socket)) {
          socket.terminate();
          continue;
        }
        alive.delete(socket);
        socket.ping();
      }
    }, PING_INTERVAL_MS).unref();
  },
  { name: 'parley-websocket' },
);
