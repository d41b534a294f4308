// Type tests: checked by `tsc` (the package's typecheck), never run. Each line states what the
// public types allow and refuse; a change that breaks one fails the typecheck.
import type {
  ClientFrame,
  ConnectQuery,
  Decoded,
  DisplayNameResult,
  ErrorCode,
  HistoryPage,
  HttpErrorBody,
  MessageFrame,
  Result,
  RoomNameResult,
  ServerFrame,
  TextCheck,
  WelcomeFrame,
} from './index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | void {}

// Every check and decoder has the one Result shape.
expectType<Equal<Decoded<ClientFrame>, Result<ClientFrame, ErrorCode>>>();
expectType<Equal<TextCheck, Result<string, 'bad_frame' | 'too_large'>>>();
expectType<Equal<RoomNameResult, Result<string, 'empty' | 'too_long' | 'invalid_character' | 'invisible'>>>();
expectType<Equal<DisplayNameResult['ok'], boolean>>();

// The frame unions are closed: a `type` outside them is no frame.
expectType<
  Equal<
    ServerFrame['type'],
    | 'welcome'
    | 'message'
    | 'join'
    | 'leave'
    | 'presence'
    | 'typing'
    | 'edit'
    | 'delete'
    | 'reactions'
    | 'moderation'
    | 'settings'
    | 'invite'
    | 'webhook'
    | 'ack'
    | 'status'
    | 'error'
  >
>();
expectType<
  Equal<
    ClientFrame['type'],
    'message' | 'edit' | 'delete' | 'react' | 'unreact' | 'moderate' | 'settings' | 'invite' | 'webhook' | 'typing'
  >
>();

// Narrowing on `type` gives each frame its fields.
export function narrow(frame: ServerFrame): string {
  // A deleted message has no text.
  if (frame.type === 'message') return frame.text ?? '(deleted)';
  if (frame.type === 'edit') return frame.text;
  if (frame.type === 'reactions') return frame.reactions.map((r) => r.emoji).join('');
  if (frame.type === 'welcome') return String(frame.hasNewer ?? false);
  return frame.type;
}

export const fromServer: MessageFrame = {
  type: 'message',
  id: '1-0',
  room: 'r',
  user: { id: 'u', name: 'n' },
  text: 't',
  ts: 1,
};
// @ts-expect-error a message's `deleted` is true or absent
export const notDeleted: MessageFrame = { ...fromServer, deleted: false };
// @ts-expect-error clients send messages, changes and typing only
export const notAClientFrame: ClientFrame = { type: 'welcome' };
// @ts-expect-error a client message needs a clientMsgId
export const noClientMsgId: ClientFrame = { type: 'message', text: 'hi' };
// @ts-expect-error a change names its message
export const reactToNothing: ClientFrame = { type: 'react', emoji: '👍', clientMsgId: 'c1' };
// @ts-expect-error moderation actions are a closed list
export const banish: ClientFrame = { type: 'moderate', action: 'banish', userId: 'u', clientMsgId: 'c2' };

// hasNewer is optional (servers before it existed do not send it); the rest of a welcome is not.
export const oldWelcome: Omit<WelcomeFrame, 'hasNewer'> = {
  type: 'welcome',
  room: 'r',
  you: { id: 'u', name: 'n' },
  token: 't',
  members: [],
  history: [],
  recovered: false,
  hasMore: false,
};
export const newerPage: HistoryPage = { room: 'r', messages: [], hasMore: false, hasNewer: true, recovered: true };
export const query: ConnectQuery = { name: 'Alice' };
// @ts-expect-error HTTP errors carry a code of the closed list
export const unknownHttpError: HttpErrorBody = { error: 'teapot', message: 'short and stout' };
