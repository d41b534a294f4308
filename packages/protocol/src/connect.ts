import * as v from 'valibot';
import { MessageIdSchema } from './server-frames.ts';

/** The WebSocket subprotocol of Parley's own protocol. Clients offer it; the server echoes it. */
export const PROTOCOL_V1 = 'parley.v1';

/** What a `parley.v1` client passes when it connects. */
export interface ConnectParams {
  /** Display name, 1–32 characters (query parameter `name`). */
  name: string;
  /**
   * The token from an earlier `welcome`, to keep the same user id. Sent as the subprotocol
   * {@link tokenProtocol}(token) beside `parley.v1`, never in the URL (URLs end up in logs).
   */
  token?: string;
  /** The id of the last message this client has (query parameter `since`); the welcome then carries what came after it. */
  since?: string;
  /** An invite to an invite-only room (query parameter `invite`), as an `invite` frame gave it. */
  invite?: string;
}

/** Subprotocols starting with this carry the identity token; the server never selects them. */
export const TOKEN_PROTOCOL_PREFIX = 'parley.token.';

/**
 * The subprotocol value that carries an identity token. Tokens are made of characters that are
 * valid in a subprotocol name (letters, digits, `-`, `_`, `.`).
 *
 * @param token As received in a `welcome`.
 * @returns E.g. `parley.token.u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w…`.
 */
export function tokenProtocol(token: string): string {
  return TOKEN_PROTOCOL_PREFIX + token;
}

/**
 * The identity token among the offered subprotocols, if any.
 *
 * @param offered The `Sec-WebSocket-Protocol` header (comma-separated) or its values.
 */
export function tokenFromProtocols(offered: string | readonly string[] | undefined): string | undefined {
  const values = typeof offered === 'string' ? offered.split(',') : (offered ?? []);
  for (const value of values) {
    const trimmed = value.trim();
    if (trimmed.startsWith(TOKEN_PROTOCOL_PREFIX) && trimmed.length > TOKEN_PROTOCOL_PREFIX.length) {
      return trimmed.slice(TOKEN_PROTOCOL_PREFIX.length);
    }
  }
  return undefined;
}

/**
 * The query of the room endpoint for `parley.v1`, as the server reads it: `name` (checked further
 * by `parseDisplayName`) and an optional `since`. Other parameters are ignored (`token` from
 * clients of the first release is read separately, see ConnectParams).
 */
export const ConnectQuerySchema = v.object({
  name: v.pipe(v.string(), v.nonEmpty('Pass ?name=<display name>.')),
  since: v.optional(MessageIdSchema),
  invite: v.optional(v.pipe(v.string(), v.maxLength(100))),
});
export type ConnectQuery = v.InferOutput<typeof ConnectQuerySchema>;
