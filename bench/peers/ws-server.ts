// The ceiling: a minimal raw `ws` server broadcasting in-process, speaking the reference
// protocol (send {"message": text}, every socket of the room receives {"message": text}).
// It does the least a correct chat server can do: parse, re-encode once, write the same bytes
// to every socket of the room. No history, no validation beyond the shape, no limits.
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const port = Number(process.env.PORT ?? 8090);
const host = process.env.HOST ?? '127.0.0.1';

const rooms = new Map<string, Set<WebSocket>>();

const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 404).end();
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 16 * 1024 });

wss.on('connection', (ws, req) => {
  const match = /^\/ws\/chat\/(\w+)\/?$/.exec(req.url ?? '');
  if (match === null) {
    ws.close(4400, 'invalid room');
    return;
  }
  const name = match[1]!;
  let room = rooms.get(name);
  if (room === undefined) {
    room = new Set();
    rooms.set(name, room);
  }
  const members = room;
  members.add(ws);
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    let message: unknown;
    try {
      message = (JSON.parse(data.toString()) as { message?: unknown }).message;
    } catch {
      return;
    }
    if (typeof message !== 'string') return;
    // Encoded once; ws writes the same buffer to every socket.
    const frame = Buffer.from(JSON.stringify({ message }));
    for (const peer of members) if (peer.readyState === peer.OPEN) peer.send(frame, { binary: false });
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0 && rooms.get(name) === members) rooms.delete(name);
  });
  ws.on('error', () => {});
});

server.listen(port, host, () => console.log(`ws peer listening on ${host}:${port}`));

const shutdown = () => {
  for (const ws of wss.clients) ws.terminate();
  wss.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
