import { createHmac, timingSafeEqual } from 'node:crypto';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER } from '@parley/protocol';

/**
 * Signs what Parley sends to the operator's programs (the before-publish hook, webhooks), so
 * they can tell it came from Parley and was not replayed: HMAC-SHA256 keyed with the shared
 * secret over `<timestamp>.<body>`, the timestamp (Unix seconds) in its own header. The scheme
 * of Stripe's and GitHub's webhooks, and the receiver's check is a few lines in any language
 * (README, Integrations).
 */

/** `sha256=<hex>` of `<timestamp>.<body>` under `secret`. */
export function signature(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

/** The two headers of a signed request, for `body` sent now. */
export function signedHeaders(secret: string, body: string, now: number = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signature(secret, timestamp, body) };
}

/**
 * The receiver's check (what the README shows; the tests' receivers use it): the signature
 * matches the body and timestamp, compared in constant time, and the timestamp is within
 * `toleranceSeconds` of now.
 */
export function verifySignature(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  toleranceSeconds = 300,
  now: number = Date.now(),
): boolean {
  const timestamp = Number(headers[TIMESTAMP_HEADER]);
  const sent = headers[SIGNATURE_HEADER];
  if (!Number.isInteger(timestamp) || typeof sent !== 'string') return false;
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(signature(secret, timestamp, body));
  const given = Buffer.from(sent);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
