/**
 * A WebSocket the test can act on: a real `ws` connection underneath, wrapped so that the test
 * sees what the client sent, can drop the connection the way a network does (no close frame),
 * keep the client offline for a while, or lose chosen frames on their way to the client.
 */
import WebSocket from 'ws';
import type { WebSocketConstructor, WebSocketLike } from '../../src/index.ts';

/** Decides, for each text frame from the server, whether the client gets it. */
export type Interceptor = (data: string, socket: ScriptedSocket) => 'pass' | 'swallow';

export class ScriptedSocket implements WebSocketLike {
  readonly inner: WebSocket;
  /** Every text frame the client sent on this socket. */
  readonly sent: string[] = [];
  onopen: WebSocketLike['onopen'] = null;
  onmessage: WebSocketLike['onmessage'] = null;
  onclose: WebSocketLike['onclose'] = null;
  onerror: WebSocketLike['onerror'] = null;

  constructor(
    url: string,
    protocols: string | string[] | undefined,
    private readonly network: TestNetwork,
  ) {
    // Offline: a port nobody listens on refuses at once, as a dead network or server would.
    this.inner = new WebSocket(network.offline ? 'ws://127.0.0.1:1/' : url, protocols);
    this.inner.onopen = (event) => this.onopen?.(event);
    this.inner.onmessage = (event) => {
      if (typeof event.data === 'string' && network.intercept?.(event.data, this) === 'swallow') return;
      this.onmessage?.(event);
    };
    this.inner.onclose = (event) => this.onclose?.(event);
    this.inner.onerror = (event) => this.onerror?.(event);
  }

  get readyState(): number {
    return this.inner.readyState;
  }

  get protocol(): string {
    return this.inner.protocol;
  }

  send(data: string): void {
    this.sent.push(data);
    this.network.sent.push(data);
    this.inner.send(data);
  }

  close(code?: number, reason?: string): void {
    this.inner.close(code, reason);
  }

  /** Drops the connection without a close frame (the client sees 1006). */
  drop(): void {
    this.inner.terminate();
  }
}

/** The sockets of one client, and what the test does to them. */
export class TestNetwork {
  readonly sockets: ScriptedSocket[] = [];
  /** Every frame the client sent, on any socket. */
  readonly sent: string[] = [];
  /** New connections fail while set. */
  offline = false;
  intercept: Interceptor | undefined;

  /** The class to give the client as its `WebSocket` option. */
  get WebSocket(): WebSocketConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const network = this;
    return class extends ScriptedSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, network);
        network.sockets.push(this);
      }
    };
  }

  get current(): ScriptedSocket | undefined {
    return this.sockets.at(-1);
  }

  /** The frames the client sent that are requests with this clientMsgId. */
  sentWith(clientMsgId: string): unknown[] {
    return this.sent
      .map((data) => JSON.parse(data) as { clientMsgId?: string })
      .filter((f) => f.clientMsgId === clientMsgId);
  }
}

/** Resolves when `condition` holds (checked every 20 ms), or rejects after `timeoutMs`. */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves after `ms`. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
