import type { KeyValueStorage } from './client-storage.ts';

/** A Map-backed stand-in for Web Storage in unit tests; `data` shows what was kept. */
export function memoryStorage(): KeyValueStorage & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (k) => data.get(k) ?? null,
    setItem: (k, v) => void data.set(k, v),
    removeItem: (k) => void data.delete(k),
  };
}
