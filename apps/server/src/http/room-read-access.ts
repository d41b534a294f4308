import { BOT_ID_PREFIX } from '@parley/protocol';
import { ANONYMOUS_ID_PREFIX } from '../engine/engine.ts';
import { needsInvite, type Standing } from '../engine/room-standing.ts';
import type { IdentityTokens } from '../identity/identity-tokens.ts';
import { botOfKey } from '../operator/bot-keys.ts';
import type { OperatorStore } from '../operator/operator-store.ts';
import type { ServerBans } from '../operator/server-bans.ts';
import { bearerMatches, bearerRequired, bearerToken } from './bearer.ts';
import { HttpError } from './http-error.ts';

/**
 * Who reads a room over HTTP: the operator (ADMIN_TOKEN), someone with an id (a person's
 * identity token, or a bot's key), or nobody in particular (no Authorization header).
 */
export type RoomReader = { kind: 'operator' } | { kind: 'identified'; id: string } | { kind: 'anonymous' };

/**
 * The id an anonymous reader's standing is asked for: never banned by id, owning or moderating
 * nothing, never let into an invite-only room (only v1 people are; nobody can be present as it).
 */
const ANONYMOUS_READER = `${ANONYMOUS_ID_PREFIX}http`;

export interface RoomReadAccessDeps {
  /** The operator's token, when ADMIN_TOKEN is set. */
  adminToken: string | undefined;
  identity: IdentityTokens;
  /** Where bots' keys are looked up. */
  operator: OperatorStore;
  serverBans: ServerBans;
  standing(room: string, userId: string, address: string): Promise<Standing>;
}

/**
 * The rule for the HTTP reads of a room (its history and member pages): whoever the WebSocket
 * would refuse (`banned`, `invite_required`) may not read the room around it either. A banned
 * id or address (a room's ban, or the operator's instance-wide one) gets 403 `banned` with
 * `until`; an invite-only room is read only by those it let in, its owner and moderators (by
 * their identity token), and the operator. Public rooms stay open to readers without a token.
 */
export class RoomReadAccess {
  constructor(private readonly deps: RoomReadAccessDeps) {}

  /**
   * Who the Authorization header says is reading. Only the Bearer scheme is read (another
   * scheme, for instance a proxy's Basic, reads as nobody in particular).
   *
   * @throws HttpError 401 for a Bearer token that is none of the three: a client that sends a
   *   token means to be someone, and reading as nobody instead would hide its mistake.
   */
  async readerOf(authorization: string | undefined): Promise<RoomReader> {
    const token = bearerToken(authorization);
    if (token === undefined) return { kind: 'anonymous' };
    const { adminToken, identity, operator } = this.deps;
    if (adminToken !== undefined && bearerMatches(authorization, adminToken)) return { kind: 'operator' };
    // A bot's key is a bot (as on its posts), an identity token a person: told apart by the
    // key's `bot_` id, so neither is ever taken for the other.
    const id = token.startsWith(BOT_ID_PREFIX) ? (await botOfKey(operator, token))?.id : await identity.verify(token);
    if (id === undefined)
      throw bearerRequired(
        'Reading a room takes Authorization: Bearer <identity token> (the token of your last welcome), a bot key ' +
          'or ADMIN_TOKEN; this one is none of them (expired, or not from this server). Send none to read a ' +
          'public room anonymously.',
      );
    return { kind: 'identified', id };
  }

  /**
   * Refuses the read when the reader may not see the room now.
   *
   * @param address The reader's address key (limits/address-key.ts): bans key on it too.
   * @throws HttpError 403 `banned` (with `until`) or `invite_required`.
   */
  async check(room: string, reader: RoomReader, address: string): Promise<void> {
    // The operator outranks every ban and invite.
    if (reader.kind === 'operator') return;
    const id = reader.kind === 'identified' ? reader.id : undefined;
    const serverBan = this.deps.serverBans.find(id, address);
    if (serverBan !== undefined) {
      throw new HttpError(
        'banned',
        `The operator of this server banned you${endOf(serverBan.until)}.`,
        {},
        {
          ...untilOf(serverBan.until),
          scope: 'server',
        },
      );
    }
    const standing = await this.deps.standing(room, id ?? ANONYMOUS_READER, address);
    if (standing.bannedUntil !== undefined)
      throw new HttpError(
        'banned',
        `You are banned from this room${endOf(standing.bannedUntil)}.`,
        {},
        untilOf(standing.bannedUntil),
      );
    if (needsInvite(standing))
      throw new HttpError(
        'invite_required',
        reader.kind === 'anonymous'
          ? 'This room is invite-only: send Authorization: Bearer <identity token> of someone it let in.'
          : 'This room is invite-only and has not let you in: ask its owner or a moderator for an invite.',
      );
  }
}

/** A ban's end in a sentence (0: for good, said by nothing). */
function endOf(until: number): string {
  return until === 0 ? '' : ` until ${new Date(until).toISOString()}`;
}

/** A ban's end as the error body carries it: absent for a ban until lifted (as the socket's error). */
function untilOf(until: number): { until?: number } {
  return until > 0 ? { until } : {};
}
