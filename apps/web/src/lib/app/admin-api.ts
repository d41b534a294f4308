/**
 * The operator's HTTP API (`/api/admin/...`, see the protocol's operator.ts), for the /admin
 * page. Every request carries the operator's token; answers are validated with the protocol's
 * schemas, and refusals become {@link ApiError}s with the server's sentence.
 */
import {
  ADMIN_BANS_PATH,
  ADMIN_BOTS_PATH,
  adminBotPath,
  BotCreatedSchema,
  BotListSchema,
  type Bot,
  type BotCreated,
  ADMIN_INSTANCES_PATH,
  ADMIN_ROOMS_PATH,
  adminBanPath,
  adminInvitesPath,
  adminModeratePath,
  adminPurgePath,
  adminRoomMessagePath,
  adminRoomMessagesPath,
  decodeWith,
  HistoryPageSchema,
  InstanceBanListSchema,
  InstanceBanSchema,
  InstanceListSchema,
  OperatorActionResultSchema,
  OperatorInviteSchema,
  OperatorRoomListSchema,
  type HistoryPage,
  type InstanceBan,
  type InstanceBanRequest,
  type InstanceReport,
  type OperatorActionResult,
  type OperatorInvite,
  type OperatorModerationRequest,
  type OperatorRoom,
} from '@parley/protocol';
import { ApiError, parseRetryAfter } from './rooms-api.ts';

type Fetch = (url: string, init: RequestInit) => Promise<Response>;

export class AdminApi {
  /**
   * @param token The operator's token (ADMIN_TOKEN), as typed into the page.
   * @param urlOf The full URL of an API path (the configured server's).
   */
  constructor(
    private readonly token: string,
    private readonly urlOf: (path: string) => string,
    private readonly doFetch: Fetch = (url, init) => fetch(url, init),
  ) {}

  async rooms(): Promise<OperatorRoom[]> {
    return (await this.request('GET', ADMIN_ROOMS_PATH, (x) => decodeWith(OperatorRoomListSchema, x))).rooms;
  }

  async instances(): Promise<InstanceReport[]> {
    return (await this.request('GET', ADMIN_INSTANCES_PATH, (x) => decodeWith(InstanceListSchema, x))).instances;
  }

  async bans(): Promise<InstanceBan[]> {
    return (await this.request('GET', ADMIN_BANS_PATH, (x) => decodeWith(InstanceBanListSchema, x))).bans;
  }

  ban(request: InstanceBanRequest): Promise<InstanceBan> {
    return this.request('POST', ADMIN_BANS_PATH, (x) => decodeWith(InstanceBanSchema, x), request);
  }

  async lift(key: string): Promise<void> {
    await this.request('DELETE', adminBanPath(key), () => ({ ok: true, value: undefined }));
  }

  async bots(): Promise<Bot[]> {
    return (await this.request('GET', ADMIN_BOTS_PATH, (x) => decodeWith(BotListSchema, x))).bots;
  }

  /** Makes a bot; the answer holds its key, which the server never shows again. */
  createBot(name: string): Promise<BotCreated> {
    return this.request('POST', ADMIN_BOTS_PATH, (x) => decodeWith(BotCreatedSchema, x), { name });
  }

  async deleteBot(id: string): Promise<void> {
    await this.request('DELETE', adminBotPath(id), () => ({ ok: true, value: undefined }));
  }

  moderate(room: string, request: OperatorModerationRequest): Promise<OperatorActionResult> {
    return this.request('POST', adminModeratePath(room), (x) => decodeWith(OperatorActionResultSchema, x), request);
  }

  purge(room: string): Promise<OperatorActionResult> {
    return this.request('POST', adminPurgePath(room), (x) => decodeWith(OperatorActionResultSchema, x), {});
  }

  /** A page of a room's messages: the latest, or those before `before` (an id), oldest first. */
  messages(room: string, query: { before?: string; limit?: number } = {}): Promise<HistoryPage> {
    return this.request('GET', adminRoomMessagesPath(room, query), (x) => decodeWith(HistoryPageSchema, x));
  }

  /** Deletes one message, as a moderator would: everyone in the room sees it go. */
  deleteMessage(room: string, id: string): Promise<OperatorActionResult> {
    return this.request('DELETE', adminRoomMessagePath(room, id), (x) => decodeWith(OperatorActionResultSchema, x));
  }

  /** An invite link to a room, working for `expiresInSeconds` (the server's default: a day). */
  invite(room: string, expiresInSeconds?: number): Promise<OperatorInvite> {
    const body = expiresInSeconds === undefined ? {} : { expiresInSeconds };
    return this.request('POST', adminInvitesPath(room), (x) => decodeWith(OperatorInviteSchema, x), body);
  }

  private async request<T>(
    method: string,
    path: string,
    decode: (answer: unknown) => { ok: true; value: T } | { ok: false; message: string },
    body?: unknown,
  ): Promise<T> {
    let response: Response;
    try {
      response = await this.doFetch(this.urlOf(path), {
        method,
        headers: {
          accept: 'application/json',
          authorization: `Bearer ${this.token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError('Could not reach the server.', null);
    }
    const answer: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (!response.ok) {
      const message =
        response.status === 401
          ? 'The server did not accept this operator token.'
          : response.status === 404 && path === ADMIN_ROOMS_PATH
            ? 'This server has no operator features (ADMIN_TOKEN is not set).'
            : `The server refused: ${errorMessage(answer) ?? `HTTP ${response.status}`}`;
      throw new ApiError(message, response.status, parseRetryAfter(response.headers.get('retry-after')));
    }
    const decoded = decode(answer);
    if (!decoded.ok) throw new Error(`The server sent an answer this page does not understand (${decoded.message}).`);
    return decoded.value;
  }
}

function errorMessage(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const message = (value as { message?: unknown }).message;
  return typeof message === 'string' ? message : undefined;
}
