/**
 * The one shape every check and decoder of the protocol returns: the value, or a stable code a
 * program can branch on and a sentence for people. Nothing here throws on bad input.
 */
export type Result<T, C extends string = string> = { ok: true; value: T } | { ok: false; code: C; message: string };

/** A successful {@link Result}. */
export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

/** A failed {@link Result}. */
export function fail<C extends string>(code: C, message: string): { ok: false; code: C; message: string } {
  return { ok: false, code, message };
}
