import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Issues user ids and the tokens that prove them. A token is `<id>.<HMAC(id)>`: a browser keeps
 * it and presents it on every connection to stay the same person, and nobody can present an id
 * they were not issued. Every instance signs with the same secret (from the configuration, or
 * shared through Redis), so a token works on any of them.
 */
export class IdentityTokens {
  private secret: Promise<string> | undefined;

  /** @param loadSecret Resolves the shared secret; retried on the next use if it fails. */
  constructor(private readonly loadSecret: () => Promise<string>) {}

  /** A new user id and its token. */
  async issue(): Promise<{ id: string; token: string }> {
    const id = `u_${randomBytes(9).toString('base64url')}`;
    return { id, token: `${id}.${await this.sign(id)}` };
  }

  /**
   * The user id a token proves, or undefined for a forged, altered or malformed token.
   *
   * @param token As issued by {@link issue}.
   */
  async verify(token: string): Promise<string | undefined> {
    const dot = token.lastIndexOf('.');
    if (dot <= 0 || token.length > 200) return undefined;
    const id = token.slice(0, dot);
    if (!/^u_[A-Za-z0-9_-]{12}$/.test(id)) return undefined;
    const given = Buffer.from(token.slice(dot + 1));
    const expected = Buffer.from(await this.sign(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  private async sign(id: string): Promise<string> {
    this.secret ??= this.loadSecret().catch((err: unknown) => {
      this.secret = undefined;
      throw err;
    });
    return createHmac('sha256', await this.secret).update(id).digest('base64url');
  }
}
