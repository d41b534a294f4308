import type { Server, Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { HTTP_ERROR_CODES, type HttpErrorBody } from '@parley/protocol';
import type { Config } from '../config.ts';
import type { Refusal } from '../limits/client-limits.ts';

/**
 * Answers a new TCP connection from an address that is flooding (see ClientLimits.shedding)
 * with a ready-made 429 as soon as it is accepted: its request is never read, parsed, routed
 * or logged, so a flood's attempts cost the event loop next to nothing and the neighbours'
 * messages do not wait behind them. The answer is the one the admission hook would give
 * (status, Retry-After, JSON body), then the connection is closed.
 *
 * Past SHED_ANSWERS_PER_SECOND such answers in a second, the address's further connections that
 * second are closed as soon as they are accepted, unanswered (see {@link dropAtAccept}): it has
 * been told 429 and Retry-After plenty of times by then, and an answer costs a socket object,
 * a write and a slower close each, which at tens of thousands of connections a second is most
 * of a core.
 *
 * Only without TRUST_PROXY: behind a proxy every connection comes from the proxy, and the
 * client's address is known only once the request's headers are read.
 */
export function shedAtAccept(app: FastifyInstance, config: Config): void {
  if (config.trustProxy !== false) return;
  const answers = new Map<string, string>();
  const answerOf = (refusal: Refusal): string => {
    const cacheKey = `${refusal.retryAfterSeconds} ${refusal.message}`;
    let answer = answers.get(cacheKey);
    if (answer === undefined) {
      const body = JSON.stringify({ error: refusal.code, message: refusal.message } satisfies HttpErrorBody);
      answer =
        `HTTP/1.1 ${HTTP_ERROR_CODES[refusal.code]} Too Many Requests\r\n` +
        `Retry-After: ${refusal.retryAfterSeconds}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        'Connection: close\r\n\r\n' +
        body;
      if (answers.size < 256) answers.set(cacheKey, answer);
    }
    return answer;
  };

  const letThrough = new WeakMap<AcceptedHandle, Verdict>();
  /** The verdict dropAtAccept made when it let the socket's handle through, or one made now if it could not. */
  const verdictFor = (socket: Socket): Verdict | undefined => {
    const handle = (socket as unknown as { _handle?: AcceptedHandle })._handle;
    const made = handle === undefined ? undefined : letThrough.get(handle);
    if (made !== undefined) {
      letThrough.delete(handle!);
      return made;
    }
    // (No onconnection to wrap, or no peer address at accept.)
    return socket.remoteAddress === undefined ? undefined : verdictOf(app, socket.remoteAddress);
  };

  app.server.once('listening', () => dropAtAccept(app, app.server, letThrough));
  app.server.on('connection', (socket: Socket) => {
    const refusal = verdictFor(socket)?.refusal;
    if (refusal === undefined) return;
    app.stats.refusedRequests += 1;
    app.stats.shedConnections += 1;
    // Nothing it sends is read (the HTTP parser never sees it); the answer goes out, then the
    // connection closes (reset, when unread bytes are still queued: it was told first).
    socket.pause();
    socket.on('error', () => {});
    socket.end(answerOf(refusal));
    socket.once('finish', () => socket.destroy());
  });
}

/** A connection's address key, and why it is to be shed (see ClientLimits.shedding), if it is. */
interface Verdict {
  key: string;
  refusal: Refusal | undefined;
}

function verdictOf(app: FastifyInstance, address: string): Verdict {
  const key = app.limits.keyOf(address);
  return { key, refusal: app.limits.shedding(key) };
}

/** The parts of Node's internal TCP handles {@link dropAtAccept} uses. */
interface ListeningHandle {
  onconnection?: (this: ListeningHandle, status: number, client?: AcceptedHandle) => void;
}
interface AcceptedHandle {
  getpeername(out: { address?: string }): number;
  close(): void;
}

/**
 * Closes a connection from a shed address that may not be answered any more this second (see
 * ClientLimits.mayAnswerShed) before Node makes a socket of it, as Node itself does for
 * connections past `server.maxConnections`: the accepted handle is closed and nothing else
 * runs. Wraps the listening handle's `onconnection`, Node's one internal callback for an
 * accepted connection (the same since Node 0.x); when a Node release no longer has it, every
 * shed connection is answered instead (the abuse tests count the dropped ones, so they notice).
 * The verdict on a connection it lets through goes into `letThrough`, under its handle (the
 * socket Node then makes holds it as `_handle`): the 'connection' listener takes it from there
 * instead of working it out again.
 */
function dropAtAccept(app: FastifyInstance, server: Server, letThrough: WeakMap<AcceptedHandle, Verdict>): void {
  const handle = (server as unknown as { _handle?: ListeningHandle })._handle;
  const accept = handle?.onconnection;
  if (handle === undefined || typeof accept !== 'function') {
    app.log.warn(
      'this Node release has no onconnection on its server handle: flooding connections are answered, not dropped',
    );
    return;
  }
  handle.onconnection = function onconnection(status, client) {
    if (status === 0 && client !== undefined) {
      const peer: { address?: string } = {};
      if (client.getpeername(peer) === 0 && peer.address !== undefined) {
        const verdict = verdictOf(app, peer.address);
        if (verdict.refusal !== undefined && !app.limits.mayAnswerShed(verdict.key)) {
          app.stats.refusedRequests += 1;
          app.stats.droppedConnections += 1;
          client.close();
          return;
        }
        letThrough.set(client, verdict);
      }
    }
    accept.call(this, status, client);
  };
}
