import type { Socket } from 'node:net';
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

  app.server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress;
    if (address === undefined) return;
    const key = app.limits.keyOf(address);
    const refusal = app.limits.shedding(key);
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
