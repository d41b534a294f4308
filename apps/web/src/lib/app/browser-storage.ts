/**
 * The browser's storage as the app uses it: what every visit remembers (name, identity token,
 * last seen ids, the mention choice; localStorage), and this tab's own storage (sessionStorage),
 * where each room keeps its unsent messages across a reload (see `room/outbox-storage.ts`).
 */
import { ClientStorage, type KeyValueStorage } from './client-storage.ts';

function storageOrNothing(kind: 'localStorage' | 'sessionStorage'): KeyValueStorage | null {
  try {
    // Reading the property itself throws in some privacy modes.
    return window[kind];
  } catch {
    return null;
  }
}

/** What the browser remembers between visits, for every room and tab. */
export const clientStorage = new ClientStorage(storageOrNothing('localStorage'));

/** This tab's storage (`null` when the browser allows none): it lasts as long as the tab. */
export const tabStorage: KeyValueStorage | null = storageOrNothing('sessionStorage');
