import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatMessage, plainText, quoteText, safeHref, tokenize, type Block, type Inline } from './format.ts';

/** Every node of a tree, depth first. */
function nodes(tree: readonly (Block | Inline)[]): (Block | Inline)[] {
  return tree.flatMap((node) => [node, ...('children' in node ? nodes(node.children) : [])]);
}
const links = (tree: readonly Block[]) =>
  nodes(tree).flatMap((n) => (n.kind === 'link' ? [{ href: n.href, text: plainText(n.children) }] : []));
const kinds = (tree: readonly (Block | Inline)[]) => nodes(tree).map((n) => n.kind);

describe('formatMessage: the subset', () => {
  test('*italic*, **bold**, `code`: elements around text', () => {
    assert.deepEqual(formatMessage('a *b* **c** `d`'), [
      {
        kind: 'inline',
        children: [
          { kind: 'text', text: 'a ' },
          { kind: 'em', children: [{ kind: 'text', text: 'b' }] },
          { kind: 'text', text: ' ' },
          { kind: 'strong', children: [{ kind: 'text', text: 'c' }] },
          { kind: 'text', text: ' ' },
          { kind: 'code', text: 'd' },
        ],
      },
    ]);
  });

  test('fenced code blocks keep their text as typed, with no formatting inside', () => {
    const tree = formatMessage('look:\n```ts\nconst a = *b* <i>;\n```\nok');
    assert.deepEqual(tree, [
      { kind: 'inline', children: [{ kind: 'text', text: 'look:' }] },
      { kind: 'code', text: 'const a = *b* <i>;', lang: 'ts' },
      { kind: 'inline', children: [{ kind: 'text', text: 'ok' }] },
    ]);
  });

  test('block quotes hold formatted text', () => {
    const tree = formatMessage('> quoted **bold**\n\nreply');
    assert.equal(tree[0]?.kind, 'quote');
    assert.equal(plainText(tree[0]?.kind === 'quote' ? tree[0].children : []), 'quoted bold');
    assert.ok(kinds(tree).includes('strong'));
    // The blank line that ends the quote is the quote's margin, not an empty line.
    assert.deepEqual(tree[1], { kind: 'inline', children: [{ kind: 'text', text: 'reply' }] });
  });

  test('links: http, https and mailto only; bare addresses as before', () => {
    const tree = formatMessage(
      '[docs](https://example.com/docs) [mail](mailto:a@example.com) see https://example.com/a_(b) and www.example.org.',
    );
    assert.deepEqual(links(tree), [
      { href: 'https://example.com/docs', text: 'docs' },
      { href: 'mailto:a@example.com', text: 'mail' },
      { href: 'https://example.com/a_(b)', text: 'https://example.com/a_(b)' },
      { href: 'https://www.example.org/', text: 'www.example.org' },
    ]);
  });

  test('@name mentions are marked, the reader’s own as theirs; e-mail addresses are not mentions', () => {
    const tree = formatMessage('@Alice and @bob, mail bob@example.com', 'Bob');
    const mentions = nodes(tree).flatMap((n) => (n.kind === 'mention' ? [`${n.text}:${n.me}`] : []));
    assert.deepEqual(mentions, ['@Alice:false', '@bob:true']);
  });

  test('line breaks and blank lines stay as typed; what is outside the subset shows as typed', () => {
    const text = 'Three things are left:\n1. tests\n2. screenshots\n\n# not a heading\n- item\n\nend';
    assert.equal(plainText(formatMessage(text)), text);
    assert.deepEqual(
      kinds(formatMessage(text)).filter((k) => k !== 'text'),
      ['inline'],
    );
    assert.equal(plainText(formatMessage('a\nb')), 'a\nb');
    assert.equal(plainText(formatMessage('\n\nhello\n')), '\n\nhello\n');
  });
});

describe('formatMessage: nothing is ever markup', () => {
  const hostile = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    'hi <b onclick="x()">there</b>',
    '<a href="javascript:alert(1)">x</a>',
    '[click](javascript:alert(1))',
    '[click](JAVASCRIPT:alert(1))',
    '[click]( javascript:alert(1) )',
    '[click](data:text/html,<script>alert(1)</script>)',
    '[click](vbscript:msgbox)',
    '<javascript:alert(1)>',
    '![x](https://example.com/x.png)',
    '[x]: javascript:alert(1)\n\n[x]',
    '**<script>**',
    '`<script>`',
    '```\n<script>alert(1)</script>\n```',
    '> <iframe src="https://example.com">',
    '&lt;script&gt; &amp; &#x3C;',
  ];

  test('HTML, scripts and unsafe links come out as text, every character kept', () => {
    for (const text of hostile) {
      const tree = formatMessage(text);
      for (const link of links(tree)) assert.ok(/^(https?|mailto):/.test(link.href), `${text}: ${link.href}`);
      // Nothing but the subset's kinds, and no text was turned into something else.
      for (const kind of kinds(tree))
        assert.ok(['inline', 'quote', 'code', 'text', 'strong', 'em', 'link', 'mention'].includes(kind), kind);
      // Not escaped for HTML: the text nodes hold the characters themselves.
      if (!text.includes('&')) assert.ok(!plainText(tree).includes('&'), `${text}: ${plainText(tree)}`);
      assert.ok(plainText(tree).includes(text.includes('<') ? '<' : ''), `${text}: its < kept`);
    }
    assert.equal(plainText(formatMessage('<script>alert(1)</script>')), '<script>alert(1)</script>');
    assert.equal(plainText(formatMessage('[click](javascript:alert(1))')), '[click](javascript:alert(1))');
    assert.equal(plainText(formatMessage('&lt;script&gt;')), '&lt;script&gt;', 'entities are not decoded either');
    assert.deepEqual(links(formatMessage('[x](https://example.com "t") <https://example.com/y>')), [
      { href: 'https://example.com/', text: 'x' },
      { href: 'https://example.com/y', text: 'https://example.com/y' },
    ]);
  });

  test('a quote of a message is its plain text on one line, cut to length', () => {
    assert.equal(quoteText('the **Continue** button\nsays `Contine`', 100), 'the Continue button says Contine');
    assert.equal(quoteText('👍'.repeat(10), 3), '👍👍👍');
    assert.equal(quoteText('<script>x</script>', 100), '<script>x</script>');
  });

  test('safeHref', () => {
    assert.equal(safeHref('https://example.com'), 'https://example.com/');
    assert.equal(safeHref('mailto:a@b.c'), 'mailto:a@b.c');
    for (const bad of [
      'javascript:alert(1)',
      'data:text/html,x',
      '/relative',
      'http://',
      'file:///etc/passwd',
      'ftp://x',
    ])
      assert.equal(safeHref(bad), null, bad);
  });
});

/**
 * Runs `work` and counts the regular-expression executions it makes (marked's tokenizers are
 * regular expressions; `test`, `match`, `replace` and the rest all go through `exec`). A step
 * count, unlike a stopwatch, does not depend on the machine.
 */
function regexSteps(work: () => void): number {
  const exec = RegExp.prototype.exec;
  let steps = 0;
  RegExp.prototype.exec = function (this: RegExp, input: string) {
    steps += 1;
    return exec.call(this, input);
  };
  try {
    work();
  } finally {
    RegExp.prototype.exec = exec;
  }
  return steps;
}

/** The tree's size: what the view renders. */
const treeSize = (text: string) => nodes(formatMessage(text)).length;

describe('formatMessage stays linear', () => {
  // Inputs that make naive Markdown parsers quadratic or worse (CommonMark's pathological tests).
  const pathological: Record<string, (n: number) => string> = {
    'nested quotes': (n) => '>'.repeat(n),
    'nested quotes with spaces': (n) => '> '.repeat(n / 2),
    'emphasis openers': (n) => '*a '.repeat(n / 3),
    'emphasis openers, one closer': (n) => `${'*a '.repeat(n / 3 - 1)}a*`,
    underscores: (n) => '_a '.repeat(n / 3),
    'nested emphasis': (n) => `${'*'.repeat(n / 2 - 1)}a${'*'.repeat(n / 2 - 1)}`,
    'strong and emphasis': (n) => '**a *'.repeat(n / 5),
    'link openers': (n) => '['.repeat(n),
    'link openers and a paren': (n) => `${'[a]('.repeat(n / 4)}`,
    'nested links': (n) => `${'[a'.repeat(n / 4)}${']'.repeat(n / 4)}`,
    'unclosed links': (n) => '[a](b '.repeat(n / 6),
    backticks: (n) => '`a``'.repeat(n / 4),
    'angle brackets': (n) => '<a '.repeat(n / 3),
    'html comments': (n) => '<!--'.repeat(n / 4),
    fences: (n) => '```\n'.repeat(n / 4),
    escapes: (n) => '\\*'.repeat(n / 2),
    addresses: (n) => 'https://a.b/('.repeat(n / 13),
    mentions: (n) => '@a'.repeat(n / 2),
    lines: (n) => 'a\n'.repeat(n / 2),
  };

  for (const [name, make] of Object.entries(pathological)) {
    test(`${name}: twice the text, about twice the work (4 KiB)`, () => {
      const half = make(2048);
      const full = make(4096);
      assert.ok(full.length <= 4096 && full.length >= 3000, `${name}: ${full.length} characters`);
      const small = regexSteps(() => tokenize(half));
      const large = regexSteps(() => tokenize(full));
      // Linear work doubles; quadratic work would quadruple.
      assert.ok(large <= 2.5 * small + 50, `${name}: ${small} steps for 2 KiB, ${large} for 4 KiB`);
      assert.ok(large <= 40 * full.length, `${name}: ${large} steps for ${full.length} characters`);
      assert.ok(treeSize(full) <= 2 * full.length + 10, `${name}: the tree stays as small as the text`);
    });
  }

  test('deep nesting is cut off, and its text kept', () => {
    const deep = formatMessage('> > > > > > deep');
    let depth = 0;
    let level: readonly Block[] = deep;
    while (level[0]?.kind === 'quote') {
      depth += 1;
      level = level[0].children;
    }
    assert.equal(depth, 3);
    assert.match(plainText(deep), /deep$/);
  });
});
