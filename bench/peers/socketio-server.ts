// Socket.IO 4 peer: the same chat rooms as the reference, written the way Socket.IO's docs
// write them, with @socket.io/redis-adapter (ioredis clients, as its README shows) so it
// scales out like Parley. A client joins the room named in its handshake query and
// `socket.emit('message', text)`; everyone in the room, the sender included, gets
// `message` with the text.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';

const port = Number(process.env.PORT ?? 8091);
const host = process.env.HOST ?? '127.0.0.1';
const redisUrl = process.env.REDIS_URL;

const httpServer = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end();
});
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

if (redisUrl !== undefined && redisUrl !== '') {
  const pubClient = new Redis(redisUrl);
  const subClient = pubClient.duplicate();
  io.adapter(createAdapter(pubClient, subClient));
}

io.on('connection', (socket) => {
  const room = String(socket.handshake.query.room ?? 'lobby');
  void socket.join(room);
  socket.on('message', (text: unknown) => {
    if (typeof text !== 'string') return;
    io.to(room).emit('message', text);
  });
});

httpServer.listen(port, host, () => console.log(`socket.io peer listening on ${host}:${port}`));

const shutdown = () => {
  io.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
