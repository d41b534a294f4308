import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRoomName, parseRoomName, ROOM_NAME_MAX_LENGTH } from './room-name.ts';

test('accepts what the reference accepts, in any script', () => {
  for (const name of [
    'lobby',
    'room_1',
    '한국어',
    'café',
    'Ωmega',
    '数字123',
    '_',
    'a'.repeat(ROOM_NAME_MAX_LENGTH),
    'नमस्ते',
  ]) {
    const result = parseRoomName(name);
    assert.ok(result.ok, name);
    assert.equal(result.value, name.normalize('NFC').toLowerCase());
  }
});

test('case does not make another room: the canonical name is in lower case', () => {
  for (const [typed, canonical] of [
    ['Lobby', 'lobby'],
    ['LOBBY', 'lobby'],
    ['lobby', 'lobby'],
    ['Room_1', 'room_1'],
    ['Ωmega', 'ωmega'],
    ['ΟΔΟΣ', 'οδος'], // a final capital sigma becomes a final small sigma, as typed in lower case
    ['КИЕВ', 'киев'],
    ['CAFE\u0301', 'caf\u00e9'], // lower case, then NFC
    ['한국어', '한국어'], // no case
  ]) {
    const result = parseRoomName(typed!);
    assert.ok(result.ok, typed);
    assert.equal(result.value, canonical, typed);
    assert.equal(isRoomName(canonical!), true, canonical);
  }
  assert.equal(isRoomName('Lobby'), false, 'not canonical as typed');
});

test('special cases of lower case: the same in every locale, no full case folding', () => {
  const canonical = (name: string) => {
    const result = parseRoomName(name);
    return result.ok ? result.value : result.code;
  };
  // Turkish dotted capital İ: i and a combining dot above (not plain i, not a Turkish rule).
  assert.equal(canonical('İzmir'), 'i\u0307zmir');
  assert.equal(canonical('IZMIR'), 'izmir');
  // German sharp s: capital ẞ becomes ß; ß is not turned into ss.
  assert.equal(canonical('STRAẞE'), 'straße');
  assert.equal(canonical('straße'), 'straße');
  // The rules apply to the folded name, so what is accepted is always canonical.
  const longDotted = parseRoomName('İ'.repeat(ROOM_NAME_MAX_LENGTH));
  assert.equal(longDotted.ok, false);
  if (!longDotted.ok) assert.equal(longDotted.code, 'too_long');
});

test('normalizes to NFC so one word is one room', () => {
  const decomposed = 'cafe\u0301';
  const result = parseRoomName(decomposed);
  assert.ok(result.ok);
  assert.equal(result.value, 'caf\u00e9');
  assert.equal(isRoomName(decomposed), false, 'not canonical as typed');
  assert.equal(isRoomName('caf\u00e9'), true);
});

test('refuses empty, over-long and non-word names with a reason', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['', 'empty', /empty/],
    ['a'.repeat(ROOM_NAME_MAX_LENGTH + 1), 'too_long', /101 characters/],
    ['😀'.repeat(ROOM_NAME_MAX_LENGTH + 1), 'too_long', /101/],
    ['two words', 'invalid_character', /a space/],
    ['dash-ed', 'invalid_character', /"-"/],
    ['slash/ed', 'invalid_character', /"\/"/],
    ['tab\there', 'invalid_character', /U\+0009/],
    ['zero\u200bwidth', 'invalid_character', /U\+200B/],
    ['brace{', 'invalid_character', /"\{"/],
    ['emoji😀', 'invalid_character', /U\+1F600/],
  ];
  for (const [name, problem, reason] of cases) {
    const result = parseRoomName(name);
    assert.equal(result.ok, false, name);
    if (!result.ok) {
      assert.equal(result.code, problem, name);
      assert.match(result.message, reason, name);
    }
  }
});

test('counts length in code points, not UTF-16 units', () => {
  // 𝔸 is one code point but two UTF-16 units; 100 of them are allowed.
  assert.ok(parseRoomName('𝔸'.repeat(ROOM_NAME_MAX_LENGTH)).ok);
});
