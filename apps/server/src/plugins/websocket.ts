import fp from 'fastify-plugin';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import type { Config } from '../config.ts';
import { sessionOf } from '../sessions/socket-session.ts';
import { Heartbeat } from '../wire/heartbeat.ts';

/** Sockets are closed in this many groups, spread over DRAIN_MS. */
const DRAIN_BATCHES = 10;

/**
 * WebSocket support with Parley's limits, keep-alive pings, and a graceful drain on shutdown:
 * once closing starts, Fastify answers every new request (upgrades and /readyz included) with
 * 503; the open sockets get their messages in flight acked, then are closed in jittered batches
 * with "service restart" (1012), so the clients of a restarted instance do not all reconnect at
 * the same moment. Their people's presence is kept until it expires (RoomHub.keepPresenceOnExit):
 * those who reconnect elsewhere meanwhile are not announced as leaving and joining again.
 */
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
        heartbeat.stop();
        fastify.roomHub.keepPresenceOnExit();
        drain([...fastify.websocketServer.clients], config).then(
          () => fastify.websocketServer.close(() => done()),
          (err: unknown) => {
            fastify.log.error({ err }, 'drain failed');
            fastify.websocketServer.close(() => done());
          },
        );
      },
    });

    // Keep-alive pings, a group of sockets at a time (see Heartbeat).
    const heartbeat = new Heartbeat();
    fastify.websocketServer.on('connection', (socket: WebSocket) => heartbeat.add(socket));
    heartbeat.start(config.pingIntervalMs);
  },
  { name: 'parley-websocket' },
);

async function drain(sockets: WebSocket[], config: Config): Promise<void> {
  if (sockets.length === 0) return;
  const reason = 'server restarting: reconnect';
  const batches = Math.min(DRAIN_BATCHES, sockets.length);
  const slot = config.drainMs / batches;
  // What is left of the shutdown budget after the drain, for posts still in flight.
  const flushMs = Math.max(100, config.shutdownTimeoutMs - config.drainMs - 500);
  const closing: Array<Promise<void>> = [];
  for (let b = 0; b < batches; b++) {
    const batch = sockets.filter((_, i) => i % batches === b);
    // Each batch at its slot, jittered within it, so reconnects arrive spread out.
    const delay = b * slot + Math.random() * slot;
    closing.push(
      new Promise<void>((resolve) => setTimeout(resolve, delay)).then(async () => {
        await Promise.all(
          batch.map((socket) => {
            const session = sessionOf(socket);
            if (session !== undefined) return session.closeGracefully(CLOSE_CODES.serviceRestart, reason, flushMs);
            socket.close(CLOSE_CODES.serviceRestart, reason);
            return undefined;
          }),
        );
      }),
    );
  }
  await Promise.all(closing);
  // Give the close handshakes a moment, then cut whatever did not answer.
  const deadline = Date.now() + 1000;
  while (sockets.some((s) => s.readyState !== s.CLOSED) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  for (const socket of sockets) if (socket.readyState !== socket.CLOSED) socket.terminate();
}
