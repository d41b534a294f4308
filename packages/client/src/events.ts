/**
 * The events of a room, one per server frame type and a few of the connection's, each with its
 * typed arguments; and the small emitter that delivers them (no Node `events`, so it runs in
 * browsers as it is).
 */
import type {
  ChangeFrame,
  DeleteFrame,
  EditFrame,
  ErrorFrame,
  MessageFrame,
  ModerationFrame,
  ReactionsFrame,
  ServerFrame,
  SettingsFrame,
  WebhookFrame,
  WelcomeFrame,
} from '@parley/protocol';
import type { ParleyError } from './errors.ts';

/**
 * Where an entry of the room's log came from:
 * - `live`: it just happened;
 * - `history`: the first welcome's history (said before this client came; without `since`);
 * - `recovery`: missed while away, from a welcome after `since` or from a history page.
 */
export type LogSource = 'live' | 'history' | 'recovery';

/** What comes with every log event (message, edit, delete, reactions, moderation, settings, a webhook change). */
export interface LogContext {
  source: LogSource;
}

/** A welcome made the room usable. */
export interface OpenInfo {
  welcome: WelcomeFrame;
  /** False for the first welcome of this room object, true after a reconnect. */
  reconnected: boolean;
}

/** A connection went away; another attempt follows. */
export interface DisconnectInfo {
  /** The WebSocket close code (1006: dropped without a close frame, or refused before the upgrade). */
  code: number;
  reason: string;
  /** When the next attempt is made. */
  retryInMs: number;
}

/** The room closed for good: no more attempts. */
export interface CloseInfo {
  /** The WebSocket close code, when the server closed it (4400, 4403, 1008), or 1000 for `close()`. */
  code: number;
  reason: string;
  /** Why, when it was not `close()`: `kicked`, `banned`, `invite_required`, `invalid_name`… */
  error?: ParleyError;
}

/** What a reconnect missed has all been delivered (after the welcome, and the pages it needed). */
export interface RecoveryInfo {
  /** False when some of it is gone from the server (trimmed, expired) or could not be fetched: a gap. */
  complete: boolean;
  /** History pages fetched after the welcome. */
  pages: number;
}

/**
 * The server frames that are passed on as they come, each as the event of its type's name:
 * `join`, `leave`, `typing`, `ack`, `invite`, `status`, and any such frame the protocol adds
 * (derived from its union, so a new one is an event here as soon as the protocol has it).
 */
export type PassedOnFrame = Exclude<
  ServerFrame,
  WelcomeFrame | MessageFrame | ChangeFrame | ModerationFrame | SettingsFrame | WebhookFrame | ErrorFrame
>;

/** One event per passed-on frame type, named after it. */
export type FrameEvents = { [F in PassedOnFrame as F['type']]: [frame: F] };

/** Every event of a {@link ParleyRoom} and its listener's arguments. */
export interface RoomEvents extends FrameEvents {
  /** Every welcome (the first, and one per reconnect), before its log entries are delivered. */
  welcome: [welcome: WelcomeFrame];
  /** The room is usable: welcomed, its entries delivered, the outbox sending. */
  open: [info: OpenInfo];
  /** A message, once each, in the room's order (live, from the first welcome, or recovered). */
  message: [message: MessageFrame, context: LogContext];
  edit: [edit: EditFrame, context: LogContext];
  delete: [deletion: DeleteFrame, context: LogContext];
  reactions: [reactions: ReactionsFrame, context: LogContext];
  moderation: [action: ModerationFrame, context: LogContext];
  settings: [settings: SettingsFrame, context: LogContext];
  /**
   * The room's webhook: a change of it (`by`, `eventId`), an entry of the log like `settings`,
   * with its context; or, to the owner, the answer to a `webhook` request (`clientMsgId`), without.
   */
  webhook: [webhook: WebhookFrame, context?: LogContext];
  /**
   * Something went wrong that no promise reports: a server `error` frame not answering a
   * request of this client, a frame that does not match the protocol, a recovery that failed.
   */
  error: [error: ParleyError];
  /** Every frame from the server, as decoded, before anything else is done with it. */
  frame: [frame: ServerFrame];
  /** A fresh identity token (every welcome brings one): keep the latest to stay the same person. */
  token: [token: string];
  /** After a reconnect, everything missed was delivered (or could not be: `complete` false). */
  recovered: [info: RecoveryInfo];
  /** The connection went away; the room reconnects after `retryInMs`. */
  disconnect: [info: DisconnectInfo];
  /** The room closed for good. */
  close: [info: CloseInfo];
}

export type RoomEventName = keyof RoomEvents;

type Listener<A extends unknown[]> = (...args: A) => void;
/** How listeners are stored: each set holds one event's listeners, typed by `on`. */
type StoredListener = (...args: any[]) => void;

/**
 * A typed emitter. A listener that throws does not stop the others, nor the room: its error is
 * passed to the `error` event's listeners, or thrown on its own (outside the room) when there
 * are none.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  readonly #listeners = new Map<keyof Events, Set<StoredListener>>();

  /**
   * Calls `listener` on every `event`.
   *
   * @returns A function that removes it.
   */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener as StoredListener);
    return () => this.off(event, listener);
  }

  /** Calls `listener` on the next `event` only. */
  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, ((...args: Events[K]) => {
      off();
      listener(...args);
    }) as Listener<Events[K]>);
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.#listeners.get(event)?.delete(listener as StoredListener);
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        this.listenerFailed(event, error);
      }
    }
  }

  /** A listener threw: the subclass reports it. */
  protected listenerFailed(_event: keyof Events, error: unknown): void {
    queueMicrotask(() => {
      throw error;
    });
  }
}
