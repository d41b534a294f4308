/**
 * A chat message as it travels between server instances. Every instance, the sender's
 * included, receives it from the bus and delivers it to its local sockets, so all clients see
 * one order.
 */
export interface BusMessage {
  room: string;
  text: string;
  /** Server time in ms when the message was accepted. */
  ts: number;
}

/** Called for every message published to a room this instance is subscribed to. */
export type BusListener = (room: string, message: BusMessage) => void;

/** Whether the engine can currently carry messages, for /readyz. */
export interface EngineHealth {
  ok: boolean;
  /** Human-readable state, e.g. "redis up (0.4 ms)" or the connection error. */
  detail: string;
}

/**
 * The message bus behind one interface. The room hub reference-counts rooms and calls
 * subscribe/unsubscribe once per room per instance, never per socket.
 */
export interface ChatEngine {
  readonly kind: 'memory' | 'redis';
  /** Starts delivering a room's messages to the listener. Resolves once the subscription is active. */
  subscribe(room: string): Promise<void>;
  /** Stops delivering a room's messages. */
  unsubscribe(room: string): Promise<void>;
  /**
   * Sends a message to every instance subscribed to its room.
   * @throws EngineUnavailableError when the bus cannot take it; nothing was sent.
   */
  publish(message: BusMessage): Promise<void>;
  /** Registers the single listener the room hub uses. */
  setListener(listener: BusListener): void;
  health(): Promise<EngineHealth>;
  close(): Promise<void>;
}

/** The bus is unreachable; the caller should tell the client to resend later. */
export class EngineUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineUnavailableError';
  }
}
