/**
 * The lobby's list of active rooms, refreshed every few seconds while the page is visible and
 * at once when the window gets focus back.
 */
import type { RoomSummary } from '@parley/protocol';

export class RoomListPoller {
  /** `null` until the first answer. */
  rooms = $state.raw<readonly RoomSummary[] | null>(null);
  problem = $state<string | null>(null);

  readonly #load: (signal: AbortSignal) => Promise<RoomSummary[]>;
  readonly #intervalMs: number;

  /**
   * @param load Fetches the list (see `fetchRoomList`).
   * @param intervalMs Time between refreshes.
   */
  constructor(load: (signal: AbortSignal) => Promise<RoomSummary[]>, intervalMs = 5_000) {
    this.#load = load;
    this.#intervalMs = intervalMs;
  }

  /**
   * Starts polling.
   *
   * @returns A function that stops it.
   */
  start(): () => void {
    let controller: AbortController | null = null;
    const refresh = async () => {
      if (document.visibilityState === 'hidden' || controller !== null) return;
      controller = new AbortController();
      try {
        this.rooms = await this.#load(controller.signal);
        this.problem = null;
      } catch (error) {
        if (!controller.signal.aborted) this.problem = error instanceof Error ? error.message : String(error);
      } finally {
        controller = null;
      }
    };
    void refresh();
    const timer = setInterval(refresh, this.#intervalMs);
    window.addEventListener('focus', refresh);
    document.addEventListener('visibilitychange', refresh);
    return () => {
      clearInterval(timer);
      window.removeEventListener('focus', refresh);
      document.removeEventListener('visibilitychange', refresh);
      controller?.abort();
    };
  }
}
