import { addressBanKey, userBanKey, type InstanceBan, type InstanceBanRequest } from '@parley/protocol';
import { banHolds, type OperatorStore } from './operator-store.ts';

/**
 * This instance's copy of the instance-wide bans, so that checking one (at every set-up and on
 * every frame) costs two map lookups, not a Redis round trip. The copy is re-read when the
 * store's version changes: at once on this instance when the operator bans through it, within
 * {@link BAN_REFRESH_MS} on the others. `onChange` then closes the sockets a new ban matches.
 */
export class ServerBans {
  private byKey = new Map<string, InstanceBan>();
  private version: string | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly store: OperatorStore,
    /** Bans kept at most (MAX_INSTANCE_BANS). */
    private readonly max: number,
    private readonly onChange: () => void,
  ) {}

  /** The ban that keeps this person (by user id) or this address out now, if any. */
  find(userId: string | undefined, addressKey: string, now: number = Date.now()): InstanceBan | undefined {
    if (this.byKey.size === 0) return undefined;
    const byUser = userId === undefined ? undefined : this.byKey.get(userBanKey(userId));
    if (byUser !== undefined && banHolds(byUser, now)) return byUser;
    const byAddress = this.byKey.get(addressBanKey(addressKey));
    return byAddress !== undefined && banHolds(byAddress, now) ? byAddress : undefined;
  }

  /** The bans in force, newest first. */
  list(now: number = Date.now()): InstanceBan[] {
    return [...this.byKey.values()].filter((ban) => banHolds(ban, now)).sort((a, b) => b.at - a.at);
  }

  /** Re-reads the bans if they changed anywhere (one GET when they did not). */
  refresh(): Promise<void> {
    this.refreshing ??= this.readIfChanged().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Adds a ban (the operator's); `full` when the store holds as many bans as it may (MAX_INSTANCE_BANS). */
  async add(request: InstanceBanRequest, addressKeyOf: (address: string) => string): Promise<InstanceBan | 'full'> {
    const now = Date.now();
    const key =
      request.userId !== undefined ? userBanKey(request.userId) : addressBanKey(addressKeyOf(request.address!));
    const ban: InstanceBan = {
      key,
      until: request.durationSeconds === undefined ? 0 : now + request.durationSeconds * 1000,
      at: now,
    };
    if (request.reason !== undefined && request.reason !== '') ban.reason = request.reason;
    if ((await this.store.putBan(ban, this.max)) === 'full') return 'full';
    await this.refresh();
    return ban;
  }

  /** Lifts a ban; false when there was none. */
  async lift(key: string): Promise<boolean> {
    const lifted = await this.store.liftBan(key);
    await this.refresh();
    return lifted;
  }

  private async readIfChanged(): Promise<void> {
    const version = await this.store.bansVersion();
    if (version === this.version) return;
    const bans = await this.store.bans();
    this.byKey = new Map(bans.map((ban) => [ban.key, ban]));
    this.version = version;
    this.onChange();
  }
}

/** How often each instance checks whether the instance-wide bans changed. */
export const BAN_REFRESH_MS = 2000;
