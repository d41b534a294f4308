import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import type { Config } from '../config.ts';

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
        const server = fastify.websocketServer;
        for (const client of server.clients) client.close(CLOSE_CODES.goingAway, 'server shutting down');
        server.close(() => done());
      },
    });
  },
  { name: 'parley-websocket' },
);
