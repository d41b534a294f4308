import type { BusListener, BusMessage, ChatEngine, EngineHealth } from './engine.ts';

/**
 * The embedded engine: rooms live in this process only. Fine for one instance and for
 * development; two instances on it do not see each other's messages.
 */
export class MemoryEngine implements ChatEngine {
  readonly kind = 'memory' as const;
  private readonly rooms = new Set<string>();
  private listener: BusListener = () => {};

  setListener(listener: BusListener): void {
    this.listener = listener;
  }

  async subscribe(room: string): Promise<void> {
    this.rooms.add(room);
  }

  async unsubscribe(room: string): Promise<void> {
    this.rooms.delete(room);
  }

  async publish(message: BusMessage): Promise<void> {
    // Deliver asynchronously, as Redis does, so callers never depend on synchronous delivery.
    queueMicrotask(() => {
      if (this.rooms.has(message.room)) this.listener(message.room, message);
    });
  }

  async health(): Promise<EngineHealth> {
    return { ok: true, detail: 'memory engine (single instance)' };
  }

  async close(): Promise<void> {
    this.rooms.clear();
  }
}
