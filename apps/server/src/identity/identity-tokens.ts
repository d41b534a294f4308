import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The secrets tokens are signed with: the current one, and the one it replaced (still accepted). */
export interface IdentitySecrets {
  current: string;
  previous?: string;
}

/** Tokens issued this far in the future (another instance's clock) are still accepted. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const USER_ID = /^u_[A-Za-z0-9_-]{12}$/;

/**
 * Issues user ids and the tokens that prove them. A token is `<id>.<key id>.<issued at>.<HMAC>`:
 * a browser keeps it and presents it on every connection to stay the same person, and nobody
 * can present an id they were not issued. Tokens expire when unused for `ttlMs` (each welcome
 * hands out a fresh one, so people who come back keep their id). The key id names the secret
 * that signed the token, so the secret can be rotated: IDENTITY_SECRET_PREVIOUS is still
 * accepted until it is removed. Every instance signs with the same secrets (from the
 * configuration, or one shared through Redis), so a token works on any of them.
 *
 * Tokens of the first format (`<id>.<HMAC>`, no key id, no issue time) are still accepted in
 * this release and are replaced by the current format at the next welcome.
 */
export class IdentityTokens {
  private secrets: Promise<{ current: Key; previous: Key | undefined }> | undefined;

  /**
   * @param loadSecrets Resolves the secrets; retried on the next use if it fails.
   * @param ttlMs How long an unused token stays valid.
   */
  constructor(
    private readonly loadSecrets: () => Promise<IdentitySecrets>,
    private readonly ttlMs: number,
  ) {}

  /**
   * A token for `id`, or for a new user id when none is given.
   *
   * @returns The id and its token, issued now.
   */
  async issue(
    id: string = `u_${randomBytes(9).toString('base64url')}`,
    now: number = Date.now(),
  ): Promise<{ id: string; token: string }> {
    const { current } = await this.keys();
    const body = `${id}.${current.id}.${now.toString(36)}`;
    return { id, token: `${body}.${mac(current.secret, body)}` };
  }

  /**
   * The user id a token proves, or undefined for a forged, altered, expired or malformed token,
   * or one signed with a secret no longer accepted.
   *
   * @param token As issued by {@link issue}.
   */
  async verify(token: string, now: number = Date.now()): Promise<string | undefined> {
    if (token.length > 200) return undefined;
    const parts = token.split('.');
    const keys = await this.keys();
    if (parts.length === 2) {
      // The first format: `<id>.<HMAC(id)>`, signed with the current or the previous secret.
      const [id = '', given = ''] = parts;
      if (!USER_ID.test(id)) return undefined;
      return [keys.current, keys.previous].some((key) => key !== undefined && sameText(given, mac(key.secret, id)))
        ? id
        : undefined;
    }
    if (parts.length !== 4) return undefined;
    const [id = '', keyId = '', issued = '', given = ''] = parts;
    if (!USER_ID.test(id) || !/^[0-9a-z]{1,12}$/.test(issued)) return undefined;
    const key = [keys.current, keys.previous].find((k) => k?.id === keyId);
    if (key === undefined || !sameText(given, mac(key.secret, `${id}.${keyId}.${issued}`))) return undefined;
    const issuedAt = parseInt(issued, 36);
    if (issuedAt > now + CLOCK_SKEW_MS || now - issuedAt > this.ttlMs) return undefined;
    return id;
  }

  /**
   * An invite to `room` valid until `expiresTs`: `<expiry>.<key id>.<HMAC of room and expiry>`.
   * The room is not in it (the connection names the room): an invite opens that room only.
   */
  async invite(room: string, expiresTs: number): Promise<string> {
    const { current } = await this.keys();
    const expiry = expiresTs.toString(36);
    return `${expiry}.${current.id}.${mac(current.secret, `invite|${room}|${expiry}`)}`;
  }

  /** Whether an invite opens `room` now (signed by a secret still accepted, not expired). */
  async verifyInvite(invite: string, room: string, now: number = Date.now()): Promise<boolean> {
    const [expiry = '', keyId = '', given = '', ...rest] = invite.split('.');
    if (rest.length > 0 || !/^[0-9a-z]{1,12}$/.test(expiry) || parseInt(expiry, 36) < now) return false;
    const keys = await this.keys();
    const key = [keys.current, keys.previous].find((k) => k?.id === keyId);
    return key !== undefined && sameText(given, mac(key.secret, `invite|${room}|${expiry}`));
  }

  private keys(): Promise<{ current: Key; previous: Key | undefined }> {
    this.secrets ??= this.loadSecrets().then(
      ({ current, previous }) => ({
        current: keyOf(current),
        previous: previous === undefined ? undefined : keyOf(previous),
      }),
      (err: unknown) => {
        this.secrets = undefined;
        throw err;
      },
    );
    return this.secrets;
  }
}

interface Key {
  secret: string;
  /** Names the secret without revealing it: a token says which one signed it. */
  id: string;
}

function keyOf(secret: string): Key {
  return {
    secret,
    id: createHash('sha256').update(`parley key id:${secret}`).digest('base64url').replace(/[-_]/g, '').slice(0, 6),
  };
}

function mac(secret: string, text: string): string {
  return createHmac('sha256', secret).update(text).digest('base64url');
}

function sameText(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
