import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/vite-plugin-svelte').SvelteConfig} */
export default {
  // Svelte 5 understands TypeScript itself; the preprocessor adds `<style lang="...">` support.
  preprocess: vitePreprocess(),
};
