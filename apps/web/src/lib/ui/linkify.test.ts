import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { linkify, MAX_LINK_LENGTH, MAX_LINKS_PER_MESSAGE, trimmedLength } from './linkify.ts';

const join = (text: string) =>
  linkify(text)
    .map((p) => p.text)
    .join('');

describe('linkify', () => {
  test('plain text stays one text part', () => {
    assert.deepEqual(linkify('hello <b>there</b>'), [{ kind: 'text', text: 'hello <b>there</b>' }]);
    assert.deepEqual(linkify(''), []);
  });

  test('finds http, https and www links among text', () => {
    assert.deepEqual(linkify('see https://example.com/a?b=1#c and www.example.org now'), [
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1#c', href: 'https://example.com/a?b=1#c' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'www.example.org', href: 'https://www.example.org/' },
      { kind: 'text', text: ' now' },
    ]);
  });

  test('leaves sentence punctuation and unbalanced brackets outside the link', () => {
    assert.deepEqual(
      linkify('(see https://en.wikipedia.org/wiki/Rust_(language)).')
        .filter((p) => p.kind === 'link')
        .map((p) => p.text),
      ['https://en.wikipedia.org/wiki/Rust_(language)'],
    );
    assert.deepEqual(
      linkify('Go to http://x.test/path, then stop!')
        .filter((p) => p.kind === 'link')
        .map((p) => p.text),
      ['http://x.test/path'],
    );
  });

  test('never links other schemes, and keeps the text intact whatever it holds', () => {
    for (const text of [
      'javascript:alert(1)',
      'data:text/html,<script>',
      'http://',
      'mailto:a@b.c',
      'https://a.test/"onmouseover="x',
    ]) {
      assert.equal(join(text), text, text);
      for (const part of linkify(text)) if (part.kind === 'link') assert.match(part.href, /^https?:\/\/[^"]+$/, text);
    }
  });

  test('works with non-Latin text and links', () => {
    const parts = linkify('한국어 https://ko.wikipedia.org/wiki/한국어 좋아요');
    assert.equal(parts[1]?.kind, 'link');
    assert.equal(parts[1]?.text, 'https://ko.wikipedia.org/wiki/한국어');
    assert.equal(
      join('한국어 https://ko.wikipedia.org/wiki/한국어 좋아요'),
      '한국어 https://ko.wikipedia.org/wiki/한국어 좋아요',
    );
  });

  test('stops making links after the cap; the rest stays text', () => {
    const text = Array.from({ length: MAX_LINKS_PER_MESSAGE + 10 }, (_, i) => `http://x${i}.test`).join(' ');
    const parts = linkify(text);
    assert.equal(parts.filter((p) => p.kind === 'link').length, MAX_LINKS_PER_MESSAGE);
    assert.equal(parts.at(-1)?.kind, 'text');
    assert.match(parts.at(-1)?.text ?? '', new RegExp(`^ http://x${MAX_LINKS_PER_MESSAGE}\\.test `));
    assert.equal(join(text), text);
  });

  test('a link longer than the cap stays plain text; one at the cap is a link', () => {
    const atCap = `https://x.test/${'a'.repeat(MAX_LINK_LENGTH - 'https://x.test/'.length)}`;
    assert.equal(atCap.length, MAX_LINK_LENGTH);
    assert.deepEqual(
      linkify(`${atCap}.`).map((p) => p.kind),
      ['link', 'text'],
    );
    const tooLong = `${atCap}b`;
    assert.deepEqual(linkify(`see ${tooLong} and http://ok.test`), [
      { kind: 'text', text: `see ${tooLong} and ` },
      { kind: 'link', text: 'http://ok.test', href: 'http://ok.test/' },
    ]);
  });
});

describe('link detection stays linear', () => {
  // The work of trimmedLength is linear by construction (two passes); these inputs made the
  // earlier version count brackets again after every character it dropped (~100 ms each).
  const hostile = [
    ...[')', ']', '}'].map((closer) => `http://a.io/${closer.repeat(4_000)}`),
    `www.${').'.repeat(2_000)}`,
    `http://a.io/${'(.'.repeat(1_000)}${').'.repeat(2_000)}`,
  ];

  test('thousands of unbalanced closers and dots are trimmed off, in the right place', () => {
    assert.equal(trimmedLength(`http://a.io/${')'.repeat(4_000)}`), 'http://a.io/'.length);
    assert.equal(trimmedLength(`www.${').'.repeat(2_000)}`), 'www'.length);
    // Balanced ones belong to the link: 1,000 "(" pair with the first 1,000 ")".
    const nested = `http://a.io/${'('.repeat(1_000)}${')'.repeat(3_000)}`;
    assert.equal(trimmedLength(nested), 'http://a.io/'.length + 2_000);
  });

  test('the work is linear: at most two visits per character, whatever the input', () => {
    // (Counted, not timed: the quadratic version visited each character once per closer dropped.)
    const steps = (text: string) => {
      const work = { steps: 0 };
      trimmedLength(text, work);
      return work.steps;
    };
    for (const text of hostile)
      assert.ok(steps(text) <= 2 * text.length + 1, `${steps(text)} steps for ${text.length}`);
    const small = `http://a.io/${')'.repeat(20_000)}`;
    const large = `http://a.io/${')'.repeat(40_000)}`;
    assert.ok(steps(large) <= 2 * steps(small) + 1, 'doubling the input doubles the work, no more');
    // Each hostile message still ends where the link does.
    for (const text of hostile)
      assert.equal(
        linkify(text)
          .map((p) => p.text)
          .join(''),
        text,
      );
  });

  test('a whole 4 KB message of links and brackets keeps its text, and the links stop at the cap', () => {
    const text = Array.from({ length: 200 }, (_, i) => `(www.x${i}.io/)).`)
      .join(' ')
      .slice(0, 4_096);
    const parts = linkify(text);
    assert.equal(join(text), text);
    assert.equal(parts.filter((p) => p.kind === 'link').length, MAX_LINKS_PER_MESSAGE);
    assert.equal(parts.find((p) => p.kind === 'link')?.text, 'www.x0.io/');
  });
});
