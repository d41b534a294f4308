import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import { CLOSE_CODES } from '@parley/protocol';
import type { Config } from '../config.ts';

/** WebSocket support with Parley's limits; on shutdown every client is told to go elsewhere. */
export default fp<{ config: Config }>(
  async (fastify, { config }) => {
    await fastify.register(websocket, {
      options: {
        maxPayload: config.maxPayloadBytes,
        // Compression costs CPU and memory per socket, for chat frames of a few hundred bytes.
        perMessageDeflate: false,
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
