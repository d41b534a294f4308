import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDisplayName } from './display-name.ts';
import { isMessageId } from './message-id.ts';
import { parseRoomName } from './room-name.ts';
import { checkMessageText, hasVisibleCharacter } from './text.ts';
import { TOKEN_PROTOCOL_PREFIX, tokenFromProtocols, tokenProtocol } from './connect.ts';

test('message texts: lone surrogates, bidi overrides and invisible-only texts are refused', () => {
  const refused = [
    'a\ud800b', // a lone high surrogate (arrives through a JSON \u escape)
    'x\udc00', // a lone low surrogate
    'abc\u202Edef', // right-to-left override
    'abc\u202Adef', // left-to-right embedding
    'abc\u2066def\u2069', // isolates
    '\u200b\u200b', // zero-width spaces only
    '\u3164', // Hangul filler only
    '\u2800 \u2800', // blank Braille patterns
    '\u200d\ufe0f', // a joiner and a selector
  ];
  for (const text of refused) {
    const result = checkMessageText(text);
    assert.equal(result.ok, false, JSON.stringify(text));
    if (!result.ok) assert.equal(result.code, 'bad_frame');
  }
  const accepted = ['hi 👋', 'שלום\u200F!', '👨‍👩‍👧', 'a\u200bb', 'e\u0301'];
  for (const text of accepted) assert.equal(checkMessageText(text).ok, true, JSON.stringify(text));
  assert.equal(hasVisibleCharacter(' \t\n'), false);
  assert.equal(hasVisibleCharacter('.'), true);
});

test('display names: fillers, blanks and invisible characters are refused; "Anonymous" is reserved', () => {
  const refused = [
    'Alice\u3164',
    'Alice\u2800',
    '\u115F',
    '\u1160x',
    'Al\uFFA0ice',
    'Anonymous',
    'anonymous',
    'ANONYMOUS',
    '...',
    'A\u0301\u0301\u0301\u0301\u0301\u0301',
  ];
  for (const name of refused) assert.equal(parseDisplayName(name).ok, false, JSON.stringify(name));
  const accepted = ['Alice', 'Sam ❤️', 'Zoë', '李小龍', 'R2-D2', 'Anonymous Coward', 'José'];
  for (const name of accepted) assert.equal(parseDisplayName(name).ok, true, JSON.stringify(name));
});

test('room names: a leading mark, an invisible letter or a stack of marks is refused', () => {
  for (const name of ['\u0301abc', '\u3164', 'lo\u3164bby', 'a\u0301\u0302\u0303\u0304\u0305\u0306']) {
    const result = parseRoomName(name);
    assert.equal(result.ok, false, JSON.stringify(name));
    if (!result.ok) assert.equal(result.code, 'invisible');
  }
  for (const name of ['lobby', 'café', 'cafe\u0301', '한국어', '_x', 'ภาษาไทย'])
    assert.equal(parseRoomName(name).ok, true, name);
});

test('message ids: the <ms>-<seq> shape with parts at most 2^64 - 1', () => {
  for (const id of ['0-0', '1700000000000-0', '18446744073709551615-18446744073709551615'])
    assert.equal(isMessageId(id), true, id);
  for (const id of [
    '18446744073709551616-0',
    '0-18446744073709551616',
    '99999999999999999999-0',
    '1-',
    '-1',
    '1.0-0',
    'abc',
    '',
    '01-0',
    '1-00',
    '0001-5',
  ]) {
    assert.equal(isMessageId(id), false, id);
  }
});

test('the identity token travels as a subprotocol value, found among the others', () => {
  const token = 'u_Qm9iLWlzLWhl.k1.mq2x8.3q2-7w_x';
  const offered = ['parley.v1', tokenProtocol(token)];
  assert.equal(offered[1], TOKEN_PROTOCOL_PREFIX + token);
  // A subprotocol must be an RFC 7230 token: no separators, no spaces.
  assert.match(offered[1]!, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/);
  assert.equal(tokenFromProtocols(offered), token);
  assert.equal(tokenFromProtocols(offered.join(', ')), token);
  assert.equal(tokenFromProtocols('parley.v1'), undefined);
  assert.equal(tokenFromProtocols(undefined), undefined);
  assert.equal(tokenFromProtocols([TOKEN_PROTOCOL_PREFIX]), undefined);
});
