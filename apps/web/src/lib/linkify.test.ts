import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { linkify } from './linkify.ts';

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
      linkify('(see https://en.wikipedia.org/wiki/Rust_(language)).').filter((p) => p.kind === 'link').map((p) => p.text),
      ['https://en.wikipedia.org/wiki/Rust_(language)'],
    );
    assert.deepEqual(
      linkify('Go to http://x.test/path, then stop!').filter((p) => p.kind === 'link').map((p) => p.text),
      ['http://x.test/path'],
    );
  });

  test('never links other schemes, and keeps the text intact whatever it holds', () => {
    for (const text of ['javascript:alert(1)', 'data:text/html,<script>', 'http://', 'mailto:a@b.c', 'https://a.test/"onmouseover="x']) {
      assert.equal(join(text), text, text);
      for (const part of linkify(text)) if (part.kind === 'link') assert.match(part.href, /^https?:\/\/[^"]+$/, text);
    }
  });

  test('works with non-Latin text and links', () => {
    const parts = linkify('한국어 https://ko.wikipedia.org/wiki/한국어 좋아요');
    assert.equal(parts[1]?.kind, 'link');
    assert.equal(parts[1]?.text, 'https://ko.wikipedia.org/wiki/한국어');
    assert.equal(join('한국어 https://ko.wikipedia.org/wiki/한국어 좋아요'), '한국어 https://ko.wikipedia.org/wiki/한국어 좋아요');
  });
});
