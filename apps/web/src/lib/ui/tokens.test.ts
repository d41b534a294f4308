/**
 * The theme's colour pairs meet WCAG AA (4.5:1 for text) in both themes. axe checks the pages as
 * rendered, but only the states a test happens to show and never text drawn by CSS (the avatar
 * initials); this checks every pair the components use, straight from tokens.css.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { AVATAR_COLOURS } from './avatar.ts';

const css = readFileSync(new URL('../../styles/tokens.css', import.meta.url), 'utf8');
const darkStart = css.indexOf('@media (prefers-color-scheme: dark)');

/** The `--name: #rrggbb` declarations of a stretch of the file. */
function colours(block: string): Map<string, string> {
  return new Map([...block.matchAll(/(--[\w-]+):\s*(#[0-9a-f]{6})\b/gi)].map((m) => [m[1]!, m[2]!]));
}

const light = colours(css.slice(0, darkStart));
// The dark theme overrides some tokens; the others keep their light value.
const dark = new Map([...light, ...colours(css.slice(darkStart, css.indexOf('@media', darkStart + 1)))]);

function luminance(hex: string): number {
  const n = Number.parseInt(hex.slice(1), 16);
  const [r, g, b] = [16, 8, 0].map((shift) => {
    const c = ((n >> shift) & 255) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

function contrast(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Text colour → the backgrounds it is used on. */
const PAIRS: Record<string, string[]> = {
  '--text': ['--bg', '--surface', '--surface-2', '--accent-soft', '--warn-soft', '--bad-soft'],
  '--muted': ['--bg', '--surface', '--surface-2', '--accent-soft'],
  '--accent': ['--bg', '--surface', '--surface-2', '--accent-soft'],
  '--on-accent': ['--accent', '--accent-hover'],
  '--ok': ['--bg', '--surface', '--surface-2'],
  '--warn': ['--surface', '--warn-soft'],
  '--bad': ['--bg', '--surface', '--bad-soft'],
  '--avatar-text': Array.from({ length: AVATAR_COLOURS }, (_, i) => `--avatar-${i + 1}`),
};

for (const [name, theme] of [
  ['light', light],
  ['dark', dark],
] as const) {
  describe(`the ${name} theme`, () => {
    for (const [fg, backgrounds] of Object.entries(PAIRS)) {
      test(`${fg} is readable on ${backgrounds.join(', ')}`, () => {
        for (const bg of backgrounds) {
          const [a, b] = [theme.get(fg), theme.get(bg)];
          assert.ok(a !== undefined && b !== undefined, `${fg} and ${bg} are defined`);
          const ratio = contrast(a, b);
          assert.ok(ratio >= 4.5, `${fg} ${a} on ${bg} ${b}: ${ratio.toFixed(2)}:1, below 4.5:1`);
        }
      });
    }
  });
}
