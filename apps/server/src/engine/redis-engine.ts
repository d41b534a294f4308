import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { EngineUnavailableError, type BusListener, type BusMessage, type ChatEngine, type EngineHealth } from './engine.ts';
import { roomChannel, roomOfChannel } from './redis-keys.ts';

/** How long start-up waits for Redis before going on unready (the connection keeps retrying). */
const CONNECT_WAIT_MS = 5000;
const PING_TIMEOUT_MS = 1000;

/**
 * The scaled-out engine: messages go through Redis pub/sub, so every instance on the same
 * Redis shares rooms. One connection sends commands; a second one, in subscriber mode, holds
 * one subscription per room that has local sockets.
 */
export class RedisEngine implements ChatEngine {
  readonly kind = 'redis' as const;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private listener: BusListener = () => {};

  constructor(url: string, private readonly log: FastifyBaseLogger) {
    const retryStrategy = (attempt: number): number => Math.min(100 * 2 ** Math.min(attempt, 5), 2000);
    this.commands = new Redis(url, {
      lazyConnect: true,
      // Without a queue, a command during an outage fails at once and the sender is told to
      // resend; ioredis' default queue is unbounded and would grow for as long as Redis is away.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy,
      connectionName: 'parley-commands',
    });
    // A connection that subscribes can run no other command, so the subscriber is separate.
    // Its queue holds only (un)subscribe calls, at most two per room, and ioredis resubscribes
    // every channel by itself after a reconnect.
    this.subscriber = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      connectTimeout: 2000,
      retryStrategy,
      connectionName: 'parley-subscriber',
    });
    this.subscriber.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
    for (const [role, conn] of [['commands', this.commands], ['subscriber', this.subscriber]] as const) {
      conn.on('error', (err: Error) => this.log.warn({ redis: role, err: err.message }, 'redis connection error'));
      conn.on('reconnecting', () => this.log.warn({ redis: role }, 'redis reconnecting'));
      conn.on('ready', () => this.log.info({ redis: role }, 'redis ready'));
    }
  }

  /** Connects both connections, waiting a few seconds at most; the server starts unready otherwise. */
  async connect(): Promise<void> {
    const connectOne = (conn: Redis) => conn.connect().catch(() => {});
    const ready = Promise.all([connectOne(this.commands), connectOne(this.subscriber)]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CONNECT_WAIT_MS);
    });
    await Promise.race([ready, timeout]);
    clearTimeout(timer);
    if (this.commands.status !== 'ready') {
      this.log.error({ status: this.commands.status }, 'redis not reachable yet; serving unready and retrying');
    }
  }

  setListener(listener: BusListener): void {
    this.listener = listener;
  }

  async subscribe(room: string): Promise<void> {
    await this.subscriber.subscribe(roomChannel(room));
  }

  async unsubscribe(room: string): Promise<void> {
    await this.subscriber.unsubscribe(roomChannel(room));
  }

  async publish(message: BusMessage): Promise<void> {
    try {
      await this.commands.publish(roomChannel(message.room), JSON.stringify(message));
    } catch (err) {
      throw new EngineUnavailableError('Redis is unavailable', { cause: err });
    }
  }

  async health(): Promise<EngineHealth> {
    const started = process.hrtime.bigint();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.commands.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no reply within ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
        }),
      ]);
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return { ok: this.subscriber.status === 'ready', detail: `redis up (${ms.toFixed(1)} ms), subscriber ${this.subscriber.status}` };
    } catch (err) {
      return { ok: false, detail: `redis down: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    // quit() waits for replies in flight; disconnect() is the fallback when Redis is gone.
    await Promise.all(
      [this.commands, this.subscriber].map((conn) =>
        conn.status === 'ready' ? conn.quit().catch(() => conn.disconnect()) : conn.disconnect(),
      ),
    );
  }

  private dispatch(channel: string, payload: string): void {
    const room = roomOfChannel(channel);
    if (room === undefined) return;
    let message: BusMessage;
    try {
      message = JSON.parse(payload) as BusMessage;
    } catch {
      // Someone else published on our channel; never let it reach clients or crash the process.
      this.log.warn({ channel }, 'dropped a malformed bus message');
      return;
    }
    if (typeof message?.text !== 'string' || message.room !== room) {
      this.log.warn({ channel }, 'dropped a bus message of the wrong shape');
      return;
    }
    this.listener(room, message);
  }
}
