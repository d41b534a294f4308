import { request as httpRequest, type Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, type Agent as HttpsAgent } from 'node:https';
import type { LookupFunction } from 'node:net';
import { RefusedAddressError } from './address-policy.ts';

/** Why an outgoing request brought no usable answer. */
export type OutboundFailure = 'timeout' | 'too_large' | 'network' | 'refused_address';

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundFailure,
    message: string,
  ) {
    super(message);
    this.name = 'OutboundError';
  }
}

export interface OutboundPost {
  headers: Record<string, string>;
  /** The whole exchange (connect, send, the answer's last byte) within this long, or `timeout`. */
  timeoutMs: number;
  /** An answer body longer than this is not read (`too_large`); 0: the body is discarded. */
  maxResponseBytes: number;
  agent?: HttpAgent | HttpsAgent | undefined;
  /** Replaces DNS resolution (the address policy's check). */
  lookup?: LookupFunction | undefined;
}

/**
 * POSTs a JSON body with node:http(s) and reads the answer within a deadline and a size bound:
 * the server's outgoing calls never wait on, or buffer, more than the operator allowed.
 * Redirects are not followed (a 3xx is an answer like any other).
 *
 * @throws OutboundError on a timeout, an answer over the bound, a refused address or a network error.
 */
export function postJson(url: URL, body: string, options: OutboundPost): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'user-agent': 'Parley',
        ...options.headers,
      },
      ...(options.agent !== undefined ? { agent: options.agent } : {}),
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
    });
    let settled = false;
    const fail = (err: OutboundError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () => fail(new OutboundError('timeout', `no answer within ${options.timeoutMs} ms`)),
      options.timeoutMs,
    );
    req.on('error', (err) =>
      fail(
        err instanceof RefusedAddressError
          ? new OutboundError('refused_address', err.message)
          : new OutboundError('network', err.message),
      ),
    );
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length']);
      const max = options.maxResponseBytes;
      if (max > 0 && declared > max) {
        fail(new OutboundError('too_large', `answer of ${declared} bytes, over ${max}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        if (max === 0) return;
        size += chunk.length;
        if (size > max) {
          fail(new OutboundError('too_large', `answer over ${max} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', (err) => fail(new OutboundError('network', err.message)));
    });
    req.end(body);
  });
}
