import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-error.ts';

const SCHEME = 'Bearer ';

/**
 * Whether an Authorization header is exactly `Bearer <token>`, for a token from the
 * configuration (METRICS_TOKEN, ADMIN_TOKEN). The two are compared as SHA-256 digests: equal
 * lengths for timingSafeEqual, so the time taken tells nothing of the token, not even its length.
 * (A bot's key is different: it is looked up by its hash, see operator/bot-keys.ts.)
 */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const given = bearerToken(authorization);
  // The scheme is no secret: a header without it is refused at once.
  return given !== undefined && timingSafeEqual(digest(given), digest(token));
}

/** The token of an `Authorization: Bearer <token>` header; undefined for any other header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  return authorization?.startsWith(SCHEME) ? authorization.slice(SCHEME.length) : undefined;
}

/** The 401 for a request without the right Bearer token, saying which one it needs. */
export function bearerRequired(message: string): HttpError {
  return new HttpError('unauthorized', message, { 'www-authenticate': 'Bearer' });
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
