// One linter for the whole repository: typescript-eslint's recommended rules on .ts, the same
// plus eslint-plugin-svelte's on .svelte, with Prettier (see .prettierrc) owning the layout.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

export default ts.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/.test-output/**',
      'bench/.work/**',
      'bench/results/**',
      '**/.svelte-kit/**',
    ],
  },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  prettier,
  ...svelte.configs.prettier,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Unused values are mistakes, except a leading underscore that says "deliberately unused".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Tests and a few typed boundaries (ws internals, parsed JSON) use `any` on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      // Svelte 5 trims the whitespace at the edges of an element's content: `{' '}` is how a
      // space between a name and "(you)" survives, not a useless mustache.
      'svelte/no-useless-mustaches': 'off',
    },
  },
  {
    files: ['apps/web/**/*.{js,ts,svelte}', 'e2e/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    // Playwright fixtures take their dependencies as a destructured first argument, `{}` when none.
    files: ['e2e/**/*.ts'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
);
