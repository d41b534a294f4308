import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { matchRoute } from './routes.ts';

describe('matchRoute', () => {
  test('/admin/ is the operator page; /admin leads there', () => {
    assert.deepEqual(matchRoute('/admin/'), { route: { name: 'admin' } });
    assert.deepEqual(matchRoute('/admin'), { route: { name: 'admin' }, canonical: '/admin/' });
    assert.equal(matchRoute('/admin/x').route.name, 'not-found');
  });

  test('/chat/ is the lobby, already canonical', () => {
    assert.deepEqual(matchRoute('/chat/'), { route: { name: 'lobby' } });
  });

  test('/ and /chat are replaced by /chat/', () => {
    assert.deepEqual(matchRoute('/'), { route: { name: 'lobby' }, canonical: '/chat/' });
    assert.deepEqual(matchRoute('/chat'), { route: { name: 'lobby' }, canonical: '/chat/' });
  });

  test('a room path decodes the name', () => {
    assert.deepEqual(matchRoute('/chat/lobby/'), { route: { name: 'room', room: 'lobby' } });
    assert.deepEqual(matchRoute('/chat/%ED%95%9C%EA%B5%AD%EC%96%B4/'), { route: { name: 'room', room: '한국어' } });
  });

  test('a room path without the trailing slash is canonicalized', () => {
    assert.deepEqual(matchRoute('/chat/lobby'), { route: { name: 'room', room: 'lobby' }, canonical: '/chat/lobby/' });
  });

  test('raw Unicode, lower-case escapes and decomposed names get one canonical path', () => {
    const canonical = '/chat/caf%C3%A9/';
    assert.deepEqual(matchRoute('/chat/café/'), { route: { name: 'room', room: 'café' }, canonical });
    assert.deepEqual(matchRoute('/chat/caf%c3%a9/'), { route: { name: 'room', room: 'café' }, canonical });
    // "e" followed by U+0301 COMBINING ACUTE ACCENT is NFC-normalized to "é".
    assert.deepEqual(matchRoute('/chat/cafe%CC%81/'), { route: { name: 'room', room: 'café' }, canonical });
  });

  test('capitals lead to the room of the lower-case name: Lobby and lobby are one room', () => {
    const canonical = '/chat/lobby/';
    assert.deepEqual(matchRoute('/chat/Lobby/'), { route: { name: 'room', room: 'lobby' }, canonical });
    assert.deepEqual(matchRoute('/chat/LOBBY'), { route: { name: 'room', room: 'lobby' }, canonical });
    assert.deepEqual(matchRoute('/chat/CAF%C3%89/'), {
      route: { name: 'room', room: 'café' },
      canonical: '/chat/caf%C3%A9/',
    });
  });

  test('invalid room names carry the reason from the protocol package', () => {
    const { route } = matchRoute('/chat/no%20spaces/');
    assert.equal(route.name, 'invalid-room');
    if (route.name === 'invalid-room') {
      assert.equal(route.raw, 'no spaces');
      assert.match(route.reason, /a space is not allowed/);
    }
    assert.equal(matchRoute(`/chat/${'a'.repeat(101)}/`).route.name, 'invalid-room');
    assert.equal(matchRoute('/chat/a%2Fb/').route.name, 'invalid-room');
  });

  test('broken percent-encoding is an invalid room, not a crash', () => {
    const { route } = matchRoute('/chat/%E0%A4%A/');
    assert.equal(route.name, 'invalid-room');
    if (route.name === 'invalid-room') assert.match(route.reason, /percent-encoding/);
  });

  test('everything else is not found', () => {
    for (const path of ['/about', '/chat/a/b/', '/chat//', '/ws/chat/a/', '/chatroom/']) {
      assert.equal(matchRoute(path).route.name, 'not-found', path);
    }
  });
});
