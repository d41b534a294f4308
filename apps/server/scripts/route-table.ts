import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openApiDocument } from '../src/http/openapi-document.ts';

// The README's table of HTTP routes, generated from the OpenAPI document so the two cannot
// drift: `pnpm --filter @parley/server run routes-table` rewrites it, and test/openapi.test.ts
// fails while the README's table differs from the document's.

/** The README this writes to (the repository's). */
export const README = fileURLToPath(new URL('../../../README.md', import.meta.url));
export const TABLE_START = '<!-- routes: generated from /api/openapi.json by apps/server/scripts/route-table.ts -->';
export const TABLE_END = '<!-- /routes -->';

/** How each security scheme reads in the table. */
const AUTH_LABELS: Record<string, string> = {
  operatorToken: '`ADMIN_TOKEN`',
  botKey: 'bot key',
  metricsToken: '`METRICS_TOKEN`',
  identityToken: 'identity token',
};

type Operation = { summary: string; security?: Record<string, string[]>[] };

function authOf(operation: Operation): string {
  const security = operation.security ?? [];
  const schemes = security.flatMap((requirement) => Object.keys(requirement));
  if (schemes.length === 0) return '—';
  const labels = schemes.map((scheme) => {
    const label = AUTH_LABELS[scheme];
    if (label === undefined) throw new Error(`no README label for the security scheme ${scheme}`);
    return label;
  });
  // An empty requirement beside the scheme: the credentials are needed only when configured
  // (METRICS_TOKEN), or the caller may send none (a room's reads, anonymous).
  const optional = security.some((requirement) => Object.keys(requirement).length === 0);
  const note = schemes.includes('identityToken') ? ' (optional)' : ' (if set)';
  return `Bearer ${labels.join(' or ')}${optional ? note : ''}`;
}

/**
 * The Markdown table of every operation of an OpenAPI document: method, path, authentication
 * and summary, in the document's order.
 */
export function routeTable(doc: Record<string, any> = openApiDocument()): string {
  const rows = Object.entries<Record<string, Operation>>(doc.paths).flatMap(([path, item]) =>
    Object.entries(item).map(
      ([method, operation]) =>
        `| ${method.toUpperCase()} | \`${path}\` | ${authOf(operation)} | ${operation.summary.replaceAll('|', '\\|')} |`,
    ),
  );
  return ['| Method | Path | Auth | What it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README with its generated block replaced by this table. */
export function withRouteTable(readme: string, table: string): string {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${TABLE_START} … ${TABLE_END} block`);
  return `${readme.slice(0, start + TABLE_START.length)}\n${table}\n${readme.slice(end)}`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const readme = readFileSync(README, 'utf8');
  const updated = withRouteTable(readme, routeTable());
  if (updated === readme) console.log('README.md: the route table is up to date');
  else {
    writeFileSync(README, updated);
    console.log('README.md: route table rewritten');
  }
}
