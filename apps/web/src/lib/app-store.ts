/** The app's one store of what the browser remembers (name, identity token, last seen ids). */
import { ClientStore, type KeyValueStorage } from './client-store.ts';

function localStorageOrNothing(): KeyValueStorage | null {
  try {
    // Reading the property itself throws in some privacy modes.
    return window.localStorage;
  } catch {
    return null;
  }
}

export const clientStore = new ClientStore(localStorageOrNothing());
