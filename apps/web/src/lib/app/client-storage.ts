/**
 * What the browser remembers between visits, in localStorage: the display name, the identity
 * token from the last `welcome` (one identity for every room), and per room the newest message
 * the reader has seen, and whether they want mention notifications. Storage may be unavailable (private windows, disabled cookies); the app
 * then works for the current page only, so every access is guarded.
 */

/** The part of the Web Storage API used here; a Map-backed fake stands in for it in tests. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const NAME_KEY = 'parley.name';
const TOKEN_KEY = 'parley.token';
const LAST_SEEN_PREFIX = 'parley.lastSeen.';
const NOTIFY_KEY = 'parley.notifyMentions';

export class ClientStorage {
  readonly #storage: KeyValueStorage | null;

  /** @param storage Usually `window.localStorage`; `null` keeps nothing. */
  constructor(storage: KeyValueStorage | null) {
    this.#storage = storage;
  }

  /** The display name chosen last time, or `null` when none was chosen yet. */
  name(): string | null {
    return this.#get(NAME_KEY);
  }

  setName(name: string): void {
    this.#set(NAME_KEY, name);
  }

  /** The token from the last `welcome`: passing it back keeps the same user id. */
  token(): string | null {
    return this.#get(TOKEN_KEY);
  }

  setToken(token: string): void {
    this.#set(TOKEN_KEY, token);
  }

  /** The newest message id the reader has seen in a room, or `null` before the first visit. */
  lastSeen(room: string): string | null {
    return this.#get(LAST_SEEN_PREFIX + room);
  }

  setLastSeen(room: string, id: string): void {
    this.#set(LAST_SEEN_PREFIX + room, id);
  }

  /** Whether the reader turned mention notifications on (`true`) or off (`false`); `null`: never chose. */
  notifyMentions(): boolean | null {
    const value = this.#get(NOTIFY_KEY);
    return value === null ? null : value === 'on';
  }

  setNotifyMentions(on: boolean): void {
    this.#set(NOTIFY_KEY, on ? 'on' : 'off');
  }

  #get(key: string): string | null {
    try {
      const value = this.#storage?.getItem(key) ?? null;
      return value === '' ? null : value;
    } catch {
      return null;
    }
  }

  #set(key: string, value: string): void {
    try {
      this.#storage?.setItem(key, value);
    } catch {
      // Full or forbidden storage: remembering is a convenience, never a reason to fail.
    }
  }
}
