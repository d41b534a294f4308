// The generator's own WebSocket client against a real `ws` server on loopback: the handshake,
// frames both ways (short, 16-bit and 64-bit lengths, split across reads, fragmented), ping,
// the close handshake and a refused upgrade.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { WireClient } from '../src/wire-client.ts';

// One server for the file: `/refuse` answers the upgrade 429, any other path is accepted and
// its server-side socket handed to whoever waits for it (`nextSocket`).
let http: Server;
let wss: WebSocketServer;
let url: string;
const waiting: ((ws: WebSocket) => void)[] = [];

before(async () => {
  http = createServer();
  wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    handleProtocols: (protocols) => (protocols.has('parley.v1') ? 'parley.v1' : false),
  });
  http.on('upgrade', (req, socket, head) => {
    if (req.url === '/refuse') {
      socket.end('HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => waiting.shift()?.(ws));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

after(async () => {
  for (const ws of wss.clients) ws.terminate();
  await new Promise((resolve) => http.close(resolve));
});

function nextSocket(): Promise<WebSocket> {
  return new Promise((resolve) => waiting.push(resolve));
}

/** A client opened on `path`, and the server's side of it. */
async function connected(path = '/', protocols: string[] = []) {
  const serverSide = nextSocket();
  const c = open(url + path, protocols);
  await c.opened;
  return { c, ws: await serverSide };
}

/** Opens a client and collects what it is told. */
function open(target: string, protocols: string[] = []) {
  const texts: string[] = [];
  const told = { headBytes: -1, pings: 0, closeCode: -1 };
  let onText: (() => void) | undefined;
  let opened!: (ok: boolean, err?: Error) => void;
  const openedPromise = new Promise<void>((resolve, reject) => {
    opened = (ok, err) => (ok ? resolve() : reject(err));
  });
  const client = new WireClient(target, protocols, {
    onOpen: (headBytes) => {
      told.headBytes = headBytes;
      opened(true);
    },
    onText: (payload) => {
      texts.push(payload.toString());
      onText?.();
    },
    onPing: () => (told.pings += 1),
    onClose: (code) => (told.closeCode = code),
    onError: (err) => opened(false, err),
  });
  return {
    client,
    texts,
    told,
    opened: openedPromise,
    /** Resolves once `n` messages have arrived. */
    received: (n: number) =>
      new Promise<void>((resolve) => {
        if (texts.length >= n) return resolve();
        onText = () => texts.length >= n && resolve();
      }),
  };
}

test('the handshake agrees a subprotocol, and text goes both ways, masked to the server', async () => {
  const { c, ws } = await connected('/ws/chat/lobby/?name=a', ['parley.v1']);
  assert.equal(ws.protocol, 'parley.v1');
  assert.ok(c.told.headBytes > 100, `the 101 response head is counted (${c.told.headBytes} bytes)`);
  const got = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
  c.client.send('{"type":"message","text":"héllo"}');
  assert.equal(await got, '{"type":"message","text":"héllo"}');
  // Short, 16-bit and 64-bit lengths; the last is larger than the shared read buffer.
  const sizes = [5, 300, 70_000, 1_000_000];
  for (const n of sizes) ws.send('x'.repeat(n));
  await c.received(sizes.length);
  assert.deepEqual(
    c.texts.map((t) => t.length),
    sizes,
  );
  assert.ok(c.texts.every((t) => /^x+$/.test(t)));
});

test('many frames in one read are each handed over, in order', async () => {
  const { c, ws } = await connected();
  const raw = (ws as unknown as { _socket: import('node:net').Socket })._socket;
  // Twenty frames in one TCP write: 0x81 = final text frame, then the length.
  const frames = Buffer.concat(
    Array.from({ length: 20 }, (_, i) =>
      Buffer.concat([Buffer.from([0x81, String(i).length]), Buffer.from(String(i))]),
    ),
  );
  raw.write(frames);
  await c.received(20);
  assert.deepEqual(
    c.texts,
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
});

test('a fragmented message is joined, and a ping is answered with its payload', async () => {
  const { c, ws } = await connected();
  ws.send('hel', { fin: false });
  ws.send('lo', { fin: true });
  await c.received(1);
  assert.deepEqual(c.texts, ['hello']);
  const pong = new Promise<string>((resolve) => ws.once('pong', (d) => resolve(d.toString())));
  ws.ping('are you there');
  assert.equal(await pong, 'are you there');
  assert.equal(c.told.pings, 1);
});

test("the server's close code is told, and a close from the client is answered", async () => {
  const a = await connected();
  a.ws.close(4009, 'resync');
  await a.c.client.closed;
  assert.equal(a.c.told.closeCode, 4009);
  assert.ok(a.c.client.isClosed);

  const b = await connected();
  const code = new Promise<number>((resolve) => b.ws.once('close', (c) => resolve(c)));
  b.c.client.close(1000);
  assert.equal(await code, 1000);
  await b.c.client.closed;
  assert.equal(b.c.told.closeCode, 1000);
});

test('a refused upgrade is an error naming the status, and nothing is opened', async () => {
  const c = open(`${url}/refuse`);
  await assert.rejects(c.opened, /Unexpected server response: 429/);
  await c.client.closed;
  assert.equal(c.told.closeCode, -1, 'no close is told for a connection that never opened');
});
