import type { Cluster, Redis } from 'ioredis';
import type { Bot, DeliveryAttempt, DeliveryCounts, InstanceBan, InstanceReport } from '@parley/protocol';
import { EngineUnavailableError } from '../engine/engine.ts';

/**
 * What the operator's features keep beside the rooms: each instance's last report (for the
 * admin page's connections per instance) and its deliveries to webhooks (for the admin page's
 * webhooks), the instance-wide bans and the bots. In memory for the memory engine (one
 * instance), in Redis for the Redis engine (shared by every instance).
 */
export interface OperatorStore {
  /** Records this instance's report (each instance reports every few seconds). */
  reportInstance(report: InstanceReport): Promise<void>;
  /** Every instance that reported since `since` (ms); older reports are dropped (instances that stopped). */
  instances(since: number): Promise<InstanceReport[]>;
  /** Records this instance's deliveries to webhooks (beside its report, as often). */
  reportDeliveries(report: DeliveryReport): Promise<void>;
  /** Every instance's delivery report made since `since` (ms); older ones are dropped. */
  deliveries(since: number): Promise<DeliveryReport[]>;
  /** Changes whenever a ban is added or lifted, so instances re-read the bans only then. */
  bansVersion(): Promise<string>;
  bans(): Promise<InstanceBan[]>;
  /** Adds (or replaces) a ban; `full` when `max` bans are kept already (ended ones are dropped first). */
  putBan(ban: InstanceBan, max: number): Promise<'stored' | 'full'>;
  /** Lifts a ban; false when there was none. */
  liftBan(key: string): Promise<boolean>;
  /** Every bot (with its key's hash). */
  bots(): Promise<StoredBot[]>;
  bot(id: string): Promise<StoredBot | undefined>;
  /** Adds a bot; `full` when `max` bots exist already. */
  putBot(bot: StoredBot, max: number): Promise<'stored' | 'full'>;
  /** Deletes a bot (its key stops working); false when there was none. */
  deleteBot(id: string): Promise<boolean>;
  /** Sets (or, undefined, removes) a bot's webhook URL and secret; false when there is no such bot. */
  setBotWebhook(id: string, webhook: { url: string; secret: string } | undefined): Promise<boolean>;
  /** Changes whenever a bot is added, deleted or given another webhook, so instances re-read the bots only then. */
  botsVersion(): Promise<string>;
}

/**
 * A bot as the store keeps it: never its key, only the key's hash (see operator/bot-keys.ts).
 * `webhookUrl` is the whole URL here (the operator's API shows it redacted), and
 * `webhookSecret` the secret that signs the deliveries to it (the server needs it to sign, so
 * it is kept as it is, like WEBHOOK_SECRET in the environment).
 */
export interface StoredBot extends Bot {
  keyHash: string;
  webhookSecret?: string;
}

/** What one instance reports of one target of its deliveries (integrations/delivery-status.ts). */
export interface TargetReport extends DeliveryCounts {
  /** A hash of the webhook's URL (a room's: of the room and URL), or the bot's id. */
  id: string;
  kind: 'webhook' | 'bot' | 'room';
  /** Redacted (integrations/redact-url.ts). */
  url: string;
  events: string[];
  bot?: { id: string; name: string };
  /** The room, for a room's webhook. */
  room?: string;
  last?: DeliveryAttempt;
  /** Newest first. */
  failures: DeliveryAttempt[];
}

/** Everything one instance reports about its deliveries (every INSTANCE_REPORT_MS, beside its instance report). */
export interface DeliveryReport {
  instance: string;
  reportedAt: number;
  targets: TargetReport[];
}

/** Whether a ban that ends at `until` (0: never) still holds at `now`. */
export function banHolds(ban: InstanceBan, now: number): boolean {
  return ban.until === 0 || ban.until > now;
}

/** The memory engine's store: the one instance's own report and bans. */
export class MemoryOperatorStore implements OperatorStore {
  private readonly reports = new Map<string, InstanceReport>();
  private readonly banList = new Map<string, InstanceBan>();
  private version = 0;
  private readonly botList = new Map<string, StoredBot>();
  private botVersion = 0;
  private readonly deliveryReports = new Map<string, DeliveryReport>();

  async reportInstance(report: InstanceReport): Promise<void> {
    this.reports.set(report.id, report);
  }

  async instances(since: number): Promise<InstanceReport[]> {
    for (const [id, report] of this.reports) if (report.reportedAt < since) this.reports.delete(id);
    return [...this.reports.values()];
  }

  async reportDeliveries(report: DeliveryReport): Promise<void> {
    this.deliveryReports.set(report.instance, report);
  }

  async deliveries(since: number): Promise<DeliveryReport[]> {
    for (const [id, report] of this.deliveryReports) if (report.reportedAt < since) this.deliveryReports.delete(id);
    return [...this.deliveryReports.values()];
  }

  async bansVersion(): Promise<string> {
    return String(this.version);
  }

  async bans(): Promise<InstanceBan[]> {
    return [...this.banList.values()];
  }

  async putBan(ban: InstanceBan, max: number): Promise<'stored' | 'full'> {
    if (!this.banList.has(ban.key) && this.banList.size >= max) {
      for (const [key, old] of this.banList) if (!banHolds(old, ban.at)) this.banList.delete(key);
      if (this.banList.size >= max) return 'full';
    }
    this.banList.set(ban.key, ban);
    this.version += 1;
    return 'stored';
  }

  async liftBan(key: string): Promise<boolean> {
    const had = this.banList.delete(key);
    if (had) this.version += 1;
    return had;
  }

  async bots(): Promise<StoredBot[]> {
    return [...this.botList.values()];
  }

  async bot(id: string): Promise<StoredBot | undefined> {
    return this.botList.get(id);
  }

  async putBot(bot: StoredBot, max: number): Promise<'stored' | 'full'> {
    if (!this.botList.has(bot.id) && this.botList.size >= max) return 'full';
    this.botList.set(bot.id, bot);
    this.botVersion += 1;
    return 'stored';
  }

  async deleteBot(id: string): Promise<boolean> {
    const had = this.botList.delete(id);
    if (had) this.botVersion += 1;
    return had;
  }

  async setBotWebhook(id: string, webhook: { url: string; secret: string } | undefined): Promise<boolean> {
    const bot = this.botList.get(id);
    if (bot === undefined) return false;
    this.botList.set(id, withWebhook(bot, webhook));
    this.botVersion += 1;
    return true;
  }

  async botsVersion(): Promise<string> {
    return String(this.botVersion);
  }
}

// One hash tag for the operator's keys (one slot on a cluster). They start `parley:operator:`,
// never `parley:{` as every room's keys do, so nothing takes them for a room's.
const BANS_KEY = 'parley:operator:{operator}:bans';
const BANS_VERSION_KEY = 'parley:operator:{operator}:bans-version';
const INSTANCES_KEY = 'parley:operator:{operator}:instances';
const BOTS_KEY = 'parley:operator:{operator}:bots';
const BOTS_VERSION_KEY = 'parley:operator:{operator}:bots-version';
const DELIVERIES_KEY = 'parley:operator:{operator}:deliveries';
/** The instance reports expire when no instance has reported for this long (they all stopped). */
const INSTANCES_TTL_SECONDS = 60;

/**
 * The Redis engine's store. Commands one by one (no script): two operators adding bans at the
 * same moment may pass the cap by one, which the cap can afford.
 */
export class RedisOperatorStore implements OperatorStore {
  constructor(private readonly redis: Redis | Cluster) {}

  async reportInstance(report: InstanceReport): Promise<void> {
    await this.run(() => this.redis.hset(INSTANCES_KEY, report.id, JSON.stringify(report)));
    await this.run(() => this.redis.expire(INSTANCES_KEY, INSTANCES_TTL_SECONDS));
  }

  async instances(since: number): Promise<InstanceReport[]> {
    const stored = await this.run(() => this.redis.hgetall(INSTANCES_KEY));
    const live: InstanceReport[] = [];
    const gone: string[] = [];
    for (const [id, json] of Object.entries(stored)) {
      const report = parse<InstanceReport>(json);
      if (report === undefined || report.reportedAt < since) gone.push(id);
      else live.push(report);
    }
    if (gone.length > 0) await this.run(() => this.redis.hdel(INSTANCES_KEY, ...gone));
    return live;
  }

  async reportDeliveries(report: DeliveryReport): Promise<void> {
    await this.run(() => this.redis.hset(DELIVERIES_KEY, report.instance, JSON.stringify(report)));
    await this.run(() => this.redis.expire(DELIVERIES_KEY, INSTANCES_TTL_SECONDS));
  }

  async deliveries(since: number): Promise<DeliveryReport[]> {
    const stored = await this.run(() => this.redis.hgetall(DELIVERIES_KEY));
    const live: DeliveryReport[] = [];
    const gone: string[] = [];
    for (const [id, json] of Object.entries(stored)) {
      const report = parse<DeliveryReport>(json);
      if (report === undefined || report.reportedAt < since) gone.push(id);
      else live.push(report);
    }
    if (gone.length > 0) await this.run(() => this.redis.hdel(DELIVERIES_KEY, ...gone));
    return live;
  }

  async bansVersion(): Promise<string> {
    return (await this.run(() => this.redis.get(BANS_VERSION_KEY))) ?? '0';
  }

  async bans(): Promise<InstanceBan[]> {
    const stored = await this.run(() => this.redis.hgetall(BANS_KEY));
    return Object.values(stored).flatMap((json) => parse<InstanceBan>(json) ?? []);
  }

  async putBan(ban: InstanceBan, max: number): Promise<'stored' | 'full'> {
    const [known, count] = await this.run(() =>
      Promise.all([this.redis.hexists(BANS_KEY, ban.key), this.redis.hlen(BANS_KEY)]),
    );
    if (known === 0 && count >= max) {
      const ended = (await this.bans()).filter((old) => !banHolds(old, ban.at)).map((old) => old.key);
      if (ended.length > 0) await this.run(() => this.redis.hdel(BANS_KEY, ...ended));
      if (count - ended.length >= max) return 'full';
    }
    await this.run(() => this.redis.hset(BANS_KEY, ban.key, JSON.stringify(ban)));
    await this.run(() => this.redis.incr(BANS_VERSION_KEY));
    return 'stored';
  }

  async liftBan(key: string): Promise<boolean> {
    const removed = await this.run(() => this.redis.hdel(BANS_KEY, key));
    if (removed > 0) await this.run(() => this.redis.incr(BANS_VERSION_KEY));
    return removed > 0;
  }

  async bots(): Promise<StoredBot[]> {
    const stored = await this.run(() => this.redis.hgetall(BOTS_KEY));
    return Object.values(stored).flatMap((json) => parse<StoredBot>(json) ?? []);
  }

  async bot(id: string): Promise<StoredBot | undefined> {
    const json = await this.run(() => this.redis.hget(BOTS_KEY, id));
    return json === null ? undefined : parse<StoredBot>(json);
  }

  async putBot(bot: StoredBot, max: number): Promise<'stored' | 'full'> {
    if ((await this.run(() => this.redis.hlen(BOTS_KEY))) >= max) return 'full';
    await this.run(() => this.redis.hset(BOTS_KEY, bot.id, JSON.stringify(bot)));
    await this.run(() => this.redis.incr(BOTS_VERSION_KEY));
    return 'stored';
  }

  async deleteBot(id: string): Promise<boolean> {
    const removed = await this.run(() => this.redis.hdel(BOTS_KEY, id));
    if (removed > 0) await this.run(() => this.redis.incr(BOTS_VERSION_KEY));
    return removed > 0;
  }

  async setBotWebhook(id: string, webhook: { url: string; secret: string } | undefined): Promise<boolean> {
    // (Read, change, write: two operators changing one bot at the same moment, the last one wins.)
    const bot = await this.bot(id);
    if (bot === undefined) return false;
    await this.run(() => this.redis.hset(BOTS_KEY, id, JSON.stringify(withWebhook(bot, webhook))));
    await this.run(() => this.redis.incr(BOTS_VERSION_KEY));
    return true;
  }

  async botsVersion(): Promise<string> {
    return (await this.run(() => this.redis.get(BOTS_VERSION_KEY))) ?? '0';
  }

  private async run<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw new EngineUnavailableError('Redis is unavailable', { cause: err });
    }
  }
}

/** The bot with this webhook, or with none. */
function withWebhook(bot: StoredBot, webhook: { url: string; secret: string } | undefined): StoredBot {
  const { webhookUrl: _url, webhookSecret: _secret, ...rest } = bot;
  return webhook === undefined ? rest : { ...rest, webhookUrl: webhook.url, webhookSecret: webhook.secret };
}

function parse<T>(json: string): T | undefined {
  try {
    return JSON.parse(json) as T;
  } catch {
    return undefined;
  }
}
