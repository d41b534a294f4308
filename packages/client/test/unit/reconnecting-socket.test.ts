/**
 * The transport under ParleyRoom and the web app's room connection, against a fake WebSocket the
 * test opens and closes by hand, on mocked timers: the attempts and their addresses, the backoff,
 * the close codes that end it, the protocol check, retry-now and the browser's online/offline
 * events, the welcome and heartbeat timeouts, dispose and restart.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { CLOSE_CODES, PROTOCOL_V1 } from '@parley/protocol';
import { setFallbackWebSocket, type WebSocketLike } from '../../src/connection/websocket.ts';
import {
  FINAL_CLOSE_CODES,
  ReconnectingSocket,
  type NetworkEvents,
  type ReconnectingSocketOptions,
  type SocketClose,
  type SocketEnd,
} from '../../src/index.ts';

/** A WebSocket the test drives: `accept()` opens it, `serverClose()` closes it from the server's side. */
class FakeSocket implements WebSocketLike {
  static made: FakeSocket[] = [];
  readyState = 0;
  protocol = '';
  readonly sent: string[] = [];
  closedWith: [number | undefined, string | undefined] | undefined;
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;

  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    FakeSocket.made.push(this);
  }

  /** The server accepts, selecting `protocol`. */
  accept(protocol: string = PROTOCOL_V1): void {
    this.readyState = 1;
    this.protocol = protocol;
    this.onopen?.({});
  }

  message(data: string): void {
    this.onmessage?.({ data });
  }

  /** The connection closes (from the server, or the network: 1006). */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  send(data: string): void {
    this.sent.push(data);
  }

  close(code?: number, reason?: string): void {
    this.readyState = 3;
    this.closedWith = [code, reason];
  }
}

/** A FakeSocket that shows pings, as `ws` does (an EventEmitter's `on`). */
class PingingSocket extends FakeSocket {
  #onPing: (() => void) | undefined;

  on(event: string, listener: () => void): void {
    if (event === 'ping') this.#onPing = listener;
  }

  ping(): void {
    this.#onPing?.();
  }
}

class FakeNetwork implements NetworkEvents {
  readonly listeners = new Map<string, Set<() => void>>();
  addEventListener(type: string, listener: () => void): void {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener);
  }
  fire(type: 'online' | 'offline'): void {
    for (const listener of this.listeners.get(type) ?? []) listener();
  }
  get count(): number {
    return [...this.listeners.values()].reduce((n, set) => n + set.size, 0);
  }
}

/** A socket under test and a record of what it said. */
const mocked = new WeakSet<TestContext>();

function setup(t: TestContext, options: Partial<ReconnectingSocketOptions> = {}) {
  if (!mocked.has(t)) t.mock.timers.enable({ apis: ['setTimeout'] });
  mocked.add(t);
  FakeSocket.made = [];
  const log: string[] = [];
  const texts: string[] = [];
  const lost: SocketClose[] = [];
  const ends: SocketEnd[] = [];
  const retries: number[] = [];
  const network = new FakeNetwork();
  let attempt = 0;
  const socket = new ReconnectingSocket({
    target: () => ({ ok: true, url: `ws://h/ws/chat/r/?since=${attempt++}`, protocols: [PROTOCOL_V1, 'tok'] }),
    onText: (data) => texts.push(data),
    onLost: (close) => {
      lost.push(close);
      log.push(`lost ${close.code}`);
    },
    onRetry: ({ retryInMs }) => {
      retries.push(retryInMs);
      log.push(`retry ${retryInMs}`);
    },
    onEnd: (end) => {
      ends.push(end);
      log.push(`end ${end.kind}`);
    },
    WebSocket: FakeSocket,
    // A fixed wait per attempt: min = max.
    backoff: { minMs: 100, maxMs: 100 },
    network,
    ...options,
  });
  const current = () => {
    const last = FakeSocket.made.at(-1);
    if (last === undefined) throw new Error('no socket yet');
    return last;
  };
  return { socket, log, texts, lost, ends, retries, network, current, tick: (ms: number) => t.mock.timers.tick(ms) };
}

describe('ReconnectingSocket', () => {
  test('opens with the target of each attempt; welcomed is open; text frames and sends go through', (t) => {
    const { socket, texts, current } = setup(t);
    assert.equal(socket.status, 'idle');
    socket.start();
    assert.equal(socket.status, 'connecting');
    assert.equal(current().url, 'ws://h/ws/chat/r/?since=0');
    assert.deepEqual(current().protocols, [PROTOCOL_V1, 'tok']);
    assert.equal(socket.send('early'), false, 'nothing goes out before the socket opens');
    assert.equal(socket.writable, false);
    current().accept();
    assert.equal(socket.writable, true);
    current().message('{"type":"welcome"}');
    current().message(new ArrayBuffer(1) as unknown as string);
    assert.deepEqual(texts, ['{"type":"welcome"}'], 'text frames only');
    socket.welcomed();
    assert.equal(socket.status, 'open');
    assert.equal(socket.send('hi'), true);
    assert.deepEqual(current().sent, ['hi']);
    socket.start();
    assert.equal(FakeSocket.made.length, 1, 'start twice opens once');
  });

  test('a drop: lost, then another attempt after the backoff, with a fresh target; attempts count until a welcome', (t) => {
    const { socket, log, current, tick } = setup(t, { backoff: { minMs: 100, maxMs: 400 } });
    const changes: string[] = [];
    const watched = new ReconnectingSocket({
      target: () => ({ ok: true, url: 'ws://x/', protocols: [PROTOCOL_V1] }),
      onText: () => {},
      onChange: () => changes.push(`${watched.status}/${watched.attempts}`),
      WebSocket: FakeSocket,
      network: null,
    });
    watched.start();
    assert.deepEqual(changes, ['connecting/0']);
    watched.dispose();

    socket.start();
    current().accept();
    socket.welcomed();
    current().serverClose(1006);
    assert.equal(socket.status, 'reconnecting');
    assert.equal(socket.attempts, 1);
    assert.equal(log[0], 'lost 1006');
    const firstWait = Number(log[1]!.split(' ')[1]);
    assert.ok(firstWait >= 100 && firstWait < 200, `first wait ${firstWait}`);
    const before = FakeSocket.made.length;
    tick(firstWait - 1);
    assert.equal(FakeSocket.made.length, before);
    tick(1);
    assert.equal(FakeSocket.made.length, before + 1);
    assert.equal(current().url, 'ws://h/ws/chat/r/?since=1', 'the target is asked again');
    // The attempt fails: the wait grows (jittered within [100, 400]).
    current().serverClose(1006);
    assert.equal(socket.attempts, 2);
    assert.ok(socket.status === 'reconnecting');
    tick(400);
    current().accept();
    socket.welcomed();
    assert.equal(socket.attempts, 0);
    assert.equal(socket.status, 'open');
  });

  for (const code of [CLOSE_CODES.badRequest, CLOSE_CODES.policyViolation, CLOSE_CODES.removed]) {
    test(`a close with ${code} is final: lost, then the end; no attempt follows until restart`, (t) => {
      const { socket, log, ends, current, tick } = setup(t);
      socket.start();
      current().accept();
      socket.welcomed();
      current().serverClose(code, 'why');
      assert.deepEqual(log, [`lost ${code}`, 'end refused']);
      assert.deepEqual(ends, [{ kind: 'refused', code, reason: 'why' }]);
      assert.equal(socket.status, 'closed');
      tick(60_000);
      assert.equal(FakeSocket.made.length, 1);
      assert.equal(socket.restart(), true);
      assert.equal(socket.status, 'connecting');
      assert.equal(socket.attempts, 0);
      assert.equal(FakeSocket.made.length, 2);
    });
  }

  test('the final close codes are 4400, 1008 and 4403', () => {
    assert.deepEqual([...FINAL_CLOSE_CODES].sort(), [1008, 4400, 4403]);
  });

  test('a server that selects another subprotocol ends it at once (closed with 1000), without a lost connection', (t) => {
    const { socket, log, ends, current } = setup(t);
    socket.start();
    current().accept('');
    assert.deepEqual(log, ['end unsupported']);
    assert.deepEqual(ends, [{ kind: 'unsupported', protocol: '' }]);
    assert.deepEqual(current().closedWith, [1000, 'Protocol not supported']);
    assert.equal(socket.status, 'closed');
  });

  test('no target, or an address the WebSocket constructor refuses, ends it', (t) => {
    const noTarget = setup(t, { target: () => ({ ok: false, reason: 'The configured server URL is bad.' }) });
    noTarget.socket.start();
    assert.deepEqual(noTarget.ends, [{ kind: 'no-target', reason: 'The configured server URL is bad.' }]);
    assert.equal(noTarget.socket.status, 'closed');

    const error = new SyntaxError('bad URL');
    const refused = setup(t, {
      WebSocket: class {
        constructor() {
          throw error;
        }
      } as unknown as typeof FakeSocket,
    });
    refused.socket.start();
    assert.deepEqual(refused.ends, [{ kind: 'bad-address', url: 'ws://h/ws/chat/r/?since=0', error }]);
  });

  test('no WebSocket class anywhere ends it', async (t) => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    delete (globalThis as { WebSocket?: unknown }).WebSocket;
    // As the browser entry: no loader.
    setFallbackWebSocket(undefined);
    t.after(async () => {
      if (descriptor !== undefined) Object.defineProperty(globalThis, 'WebSocket', descriptor);
      const { loadWsWebSocket } = await import('../../src/connection/node-websocket.ts');
      setFallbackWebSocket(loadWsWebSocket);
    });
    const ends: SocketEnd[] = [];
    const socket = new ReconnectingSocket({
      target: () => ({ ok: true, url: 'ws://h/', protocols: [PROTOCOL_V1] }),
      onText: () => {},
      onEnd: (end) => ends.push(end),
      network: null,
    });
    socket.start();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(ends[0]?.kind, 'no-websocket');
    assert.equal(socket.status, 'closed');
  });

  test("the platform's class is looked up for every attempt (a page may replace it meanwhile)", (t) => {
    const descriptor = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
    t.after(() => {
      if (descriptor !== undefined) Object.defineProperty(globalThis, 'WebSocket', descriptor);
      else delete (globalThis as { WebSocket?: unknown }).WebSocket;
    });
    class Replaced extends FakeSocket {}
    const platform = globalThis as { WebSocket?: unknown };
    platform.WebSocket = FakeSocket;
    const { socket, current, tick } = setup(t, { WebSocket: undefined });
    socket.start();
    assert.equal(current().constructor, FakeSocket);
    current().serverClose(1006);
    platform.WebSocket = Replaced;
    tick(100);
    assert.ok(current() instanceof Replaced);
  });

  test('retryNow skips the rest of the wait, only while waiting', (t) => {
    const { socket, current } = setup(t);
    socket.start();
    socket.retryNow();
    assert.equal(FakeSocket.made.length, 1, 'not while the first attempt is under way');
    current().serverClose(1006);
    socket.retryNow();
    assert.equal(FakeSocket.made.length, 2);
    assert.equal(socket.status, 'reconnecting', 'still reconnecting until welcomed');
    socket.retryNow();
    assert.equal(FakeSocket.made.length, 2, 'no wait to skip');
  });

  test('back online: the next attempt at once; offline: the socket is dropped and another attempt waits', (t) => {
    const { socket, network, log, current, tick } = setup(t);
    socket.start();
    current().accept();
    socket.welcomed();
    network.fire('offline');
    assert.deepEqual(current().closedWith, [1000, 'Browser went offline']);
    assert.deepEqual(log, ['lost 1006', 'retry 100']);
    assert.equal(socket.status, 'reconnecting');
    // Offline again while no socket is open: nothing to drop.
    network.fire('offline');
    assert.equal(log.length, 2);
    network.fire('online');
    assert.equal(FakeSocket.made.length, 2);
    tick(1_000);
    assert.equal(FakeSocket.made.length, 2, 'the skipped wait does not fire later');
  });

  test('the welcome timeout drops an attempt that is never welcomed (4000) and tries again', (t) => {
    const { socket, log, current, tick } = setup(t, { welcomeTimeoutMs: 5_000 });
    socket.start();
    current().accept();
    tick(4_999);
    assert.equal(log.length, 0);
    tick(1);
    assert.deepEqual(current().closedWith, [4000, 'No welcome within 5000 ms']);
    assert.deepEqual(log, ['lost 1006', 'retry 100']);
    tick(100);
    current().accept();
    socket.welcomed();
    tick(10_000);
    assert.equal(socket.status, 'open', 'welcomed in time');
  });

  test('where pings show, a connection that hears nothing for the heartbeat timeout is dropped; frames and pings keep it', (t) => {
    const { socket, log, current, tick } = setup(t, { WebSocket: PingingSocket, heartbeatTimeoutMs: 1_000 });
    socket.start();
    current().accept();
    socket.welcomed();
    tick(900);
    current().message('{}');
    tick(900);
    (current() as PingingSocket).ping();
    tick(900);
    assert.equal(log.length, 0);
    tick(100);
    assert.deepEqual(current().closedWith, [4000, 'Nothing heard from the server for 1000 ms']);
    assert.deepEqual(log, ['lost 1006', 'retry 100']);
    // Off by default: a socket that shows no pings is not watched.
    const quiet = setup(t);
    quiet.socket.start();
    quiet.current().accept();
    quiet.tick(1_000_000);
    assert.deepEqual(quiet.log, []);
  });

  test('dispose closes with its code and reason, stops following the network, and ends nothing more', (t) => {
    const { socket, network, log, current, tick } = setup(t);
    socket.start();
    assert.equal(network.count, 2);
    current().accept();
    const first = current();
    socket.dispose(1000, 'Left the room');
    assert.deepEqual(first.closedWith, [1000, 'Left the room']);
    assert.equal(socket.status, 'closed');
    assert.equal(network.count, 0);
    first.serverClose(1000);
    tick(60_000);
    assert.deepEqual(log, [], 'nothing said after dispose: no lost connection, no retry, no end');
    assert.equal(socket.restart(), false);
    socket.start();
    assert.equal(FakeSocket.made.length, 1);
  });

  test('a dispose while waiting cancels the attempt', (t) => {
    const { socket, current, tick } = setup(t);
    socket.start();
    current().serverClose(1006);
    socket.dispose();
    tick(60_000);
    assert.equal(FakeSocket.made.length, 1);
  });

  test("a replaced socket's late events are ignored", (t) => {
    const { socket, texts, log, network, current } = setup(t);
    socket.start();
    const old = current();
    old.accept();
    network.fire('offline');
    network.fire('online');
    assert.notEqual(current(), old);
    old.message('late');
    old.serverClose(1006);
    assert.deepEqual(texts, []);
    assert.deepEqual(log, ['lost 1006', 'retry 100']);
  });
});
