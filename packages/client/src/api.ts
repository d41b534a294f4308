/**
 * Everything @parley/client exports, on every platform: the entries (`index.ts` for Node,
 * `browser.ts` for bundlers targeting browsers) re-export this. The frames' types are the
 * protocol package's, re-exported here for convenience.
 */
export { ParleyRoom, type ParleyRoomOptions, type RoomStatus, type SendOptions, type ModerateOptions } from './room.ts';
export type {
  RoomEvents,
  RoomEventName,
  FrameEvents,
  PassedOnFrame,
  LogSource,
  LogContext,
  OpenInfo,
  DisconnectInfo,
  CloseInfo,
  RecoveryInfo,
} from './events.ts';
export { TypedEmitter } from './events.ts';
export {
  ParleyError,
  CLIENT_ERROR_CODES,
  type ClientErrorCode,
  type ParleyErrorCode,
  type ParleyErrorDetails,
  type LooseErrorFrame,
} from './errors.ts';
export {
  Outbox,
  newClientMsgId,
  type Ack,
  type OutboxOptions,
  type RequestFrame,
  type Refusal,
} from './outbox/outbox.ts';
export { backoffDelay, RECONNECT_BACKOFF, RETRY_BACKOFF, type BackoffOptions } from './connection/backoff.ts';
export { Pacer, DEFAULT_PACE, type PacerOptions } from './connection/pacer.ts';
export {
  ReconnectingSocket,
  FINAL_CLOSE_CODES,
  type ReconnectingSocketOptions,
  type SocketStatus,
  type SocketTarget,
  type SocketClose,
  type SocketEnd,
  type NetworkEvents,
} from './connection/reconnecting-socket.ts';
export { resolveWebSocket, type WebSocketConstructor, type WebSocketLike } from './connection/websocket.ts';
export {
  fetchHistoryPage,
  fetchMemberPage,
  fetchActiveRooms,
  parseRetryAfter,
  type FetchLike,
  type ResponseLike,
  type HttpOptions,
} from './http/http.ts';
export { serverBase, roomSocketUrl, connectProtocols, type ServerBase } from './http/server-url.ts';
export {
  batchFrames,
  isLogFrame,
  newestInBatch,
  newestId,
  logId,
  type LogFrame,
  type LogBatch,
} from './recovery/log-batch.ts';
export { RecentIds } from './recovery/recent-ids.ts';
export {
  recoverAfter,
  MAX_RECOVERY_PAGES,
  RECOVERY_PAGE_LIMIT,
  type RecoveryOutcome,
  type RecoverySteps,
} from './recovery/recover.ts';
export type {
  AckFrame,
  ChangeFrame,
  DeleteFrame,
  EditFrame,
  ErrorFrame,
  HistoryPage,
  InviteFrame,
  JoinFrame,
  LeaveFrame,
  Member,
  MemberPage,
  MessageFrame,
  ModerationFrame,
  ReactionsFrame,
  RoomSettings,
  RoomSummary,
  ServerFrame,
  SettingsFrame,
  StatusFrame,
  TypingFrame,
  User,
  WelcomeFrame,
} from '@parley/protocol';
