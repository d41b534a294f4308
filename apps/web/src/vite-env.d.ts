/// <reference types="svelte" />
/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Origin of the chat server when it is not the page's own, e.g. `https://chat.example.com`. */
  readonly VITE_PARLEY_SERVER_URL?: string;
}

interface ImportMeta {
  readonly env: ImportMetaEnv;
}

interface Window {
  /** Set by `public/config.js`, which operators may replace at deployment. */
  PARLEY_CONFIG?: { serverUrl?: string };
}
