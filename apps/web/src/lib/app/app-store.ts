/**
 * The app's stores of what the browser remembers: name, identity token and last seen ids for
 * every visit (localStorage), and each tab's unsent messages across a reload (sessionStorage).
 */
import { ClientStore, type KeyValueStorage } from './client-store.ts';
import { OutboxStore } from '../room/outbox-store.ts';

function storageOrNothing(kind: 'localStorage' | 'sessionStorage'): KeyValueStorage | null {
  try {
    // Reading the property itself throws in some privacy modes.
    return window[kind];
  } catch {
    return null;
  }
}

export const clientStore = new ClientStore(storageOrNothing('localStorage'));
export const outboxStore = new OutboxStore(storageOrNothing('sessionStorage'));
