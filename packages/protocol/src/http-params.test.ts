import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from 'valibot';
import { HTTP_ERROR_CODES } from './error-codes.ts';
import { HttpErrorBodySchema, ReadinessSchema } from './http-bodies.ts';
import {
  HISTORY_PAGE_MAX,
  PostMessageHeadersSchema,
  RoomMembersQuerySchema,
  RoomMessagesQuerySchema,
  RoomPathParamsSchema,
} from './http-params.ts';

test('an HTTP error body carries one of the closed list of codes', () => {
  for (const code of Object.keys(HTTP_ERROR_CODES)) {
    assert.ok(v.is(HttpErrorBodySchema, { error: code, message: 'm' }), code);
  }
  assert.equal(v.is(HttpErrorBodySchema, { error: 'teapot', message: 'm' }), false);
  assert.equal(v.is(HttpErrorBodySchema, { error: 'not_found' }), false);
});

test('readiness names its engine', () => {
  assert.ok(v.is(ReadinessSchema, { status: 'unready', engine: 'redis', detail: 'connect ECONNREFUSED' }));
  assert.equal(v.is(ReadinessSchema, { status: 'ok', engine: 'redis', detail: '' }), false);
});

test('the parameters of the history and member pages', () => {
  assert.ok(v.is(RoomPathParamsSchema, { room: '한국어' }));
  assert.equal(v.is(RoomPathParamsSchema, { room: 'a b' }), false);
  assert.ok(v.is(RoomMessagesQuerySchema, { before: '1700000000000-0', limit: HISTORY_PAGE_MAX }));
  assert.equal(v.is(RoomMessagesQuerySchema, { limit: HISTORY_PAGE_MAX + 1 }), false);
  assert.equal(v.is(RoomMessagesQuerySchema, { after: '007-0' }), false);
  assert.ok(v.is(RoomMembersQuerySchema, { cursor: '42', limit: 1 }));
  assert.equal(v.is(RoomMembersQuerySchema, { cursor: 'x' }), false);
  assert.ok(v.is(PostMessageHeadersSchema, { 'idempotency-key': 'deploy-42' }));
  assert.equal(v.is(PostMessageHeadersSchema, { 'idempotency-key': 'two words' }), false);
});
