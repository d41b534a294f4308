import {
  ChangeRecordSchema,
  MessageRecordSchema,
  ModerationRecordSchema,
  RoomSettingsSchema,
  SettingsRecordSchema,
  DEFAULT_ROOM_SETTINGS,
  JoinPayloadSchema,
  PresencePayloadSchema,
  WebhookRecordSchema,
  ROOM_RECORD_VERSION,
  RoomEventSchema,
  decodeWith,
  isMessageId,
  type ChangeFrame,
  type ChangeOp,
  type ChangeRecord,
  type MessageFrame,
  type MessageRecord,
  type ModerationFrame,
  type ModerationRecord,
  type RoomSettings,
  type WebhookAction,
  type SettingsFrame,
  type SettingsRecord,
  type Reaction,
  type RoomEvent,
  type User,
  type WebhookChangeFrame,
  type WebhookRecord,
} from '@parley/protocol';
import { idTime, type StoredMessage } from './engine.ts';
import { changeFrameFor, replyExcerpt, type RoomEntry } from './message-state.ts';

// How room events are written to and read from Redis: the stored record of a message (a
// stream entry), and the frames instances publish to each other. Everything here is built and
// checked in TypeScript against the protocol's catalogue; the Lua scripts only put a header of
// plain values (kind, id, seq, time) in front of a body serialised here, and never build JSON.

/**
 * The record of a message, as the post script stores it (stream field `r`) and publishes it:
 * without its text, which the script keeps in the room's texts hash (record version 2).
 */
export function messageRecord(
  message: Pick<MessageRecord, 'room' | 'user' | 'clientMsgId'>,
  replyTo?: { id: string; user: User },
): string {
  const record: MessageRecord = { v: ROOM_RECORD_VERSION, kind: 'message', room: message.room, user: message.user };
  if (message.clientMsgId !== undefined) record.clientMsgId = message.clientMsgId;
  if (replyTo !== undefined) record.replyTo = { id: replyTo.id, user: replyTo.user };
  return JSON.stringify(record);
}

/** The record of a change, as the change script stores it and publishes it. */
export function changeRecord(change: Omit<ChangeRecord, 'v' | 'kind'>): string {
  const record: ChangeRecord = {
    v: ROOM_RECORD_VERSION,
    kind: 'change',
    op: change.op,
    room: change.room,
    user: change.user,
    id: change.id,
  };
  if (change.emoji !== undefined) record.emoji = change.emoji;
  if (change.clientMsgId !== undefined) record.clientMsgId = change.clientMsgId;
  return JSON.stringify(record);
}

/**
 * The record of each deletion of a purge, up to the id of the message deleted: the purge script
 * appends the id and the closing `"}` (a log id is digits and a dash: nothing to escape). The
 * record is a moderator's `delete` of the message, without a clientMsgId (the purge's own entry
 * holds the retry guard).
 */
export function purgeDeletePrefix(room: string, by: User): string {
  const json = changeRecord({ op: 'delete', room, user: by, id: '' });
  const end = '"id":""}';
  if (!json.endsWith(end)) throw new Error('a change record must end with its id');
  return json.slice(0, -2);
}

/** The record of a moderation action, as the moderation script stores it and publishes it. */
export function moderationRecord(
  draft: { room: string; by: User; action: ModerationRecord['action']; reason?: string; clientMsgId: string },
  user: User,
  until: number,
): string {
  const record: ModerationRecord = {
    v: ROOM_RECORD_VERSION,
    kind: 'moderation',
    action: draft.action,
    room: draft.room,
    user,
    by: draft.by,
    clientMsgId: draft.clientMsgId,
  };
  if (until > 0) record.until = until;
  if (draft.reason !== undefined && draft.reason !== '') record.reason = draft.reason;
  return JSON.stringify(record);
}

/** The record of a settings change: all the settings after it, and who changed them. */
export function settingsRecord(draft: { room: string; by: User; clientMsgId: string }, settings: RoomSettings): string {
  const record: SettingsRecord = {
    v: ROOM_RECORD_VERSION,
    kind: 'settings',
    room: draft.room,
    user: draft.by,
    settings,
    clientMsgId: draft.clientMsgId,
  };
  return JSON.stringify(record);
}

/**
 * The record of a change of the room's webhook: the events sent to it after the change (`null`:
 * removed) and who changed it; never its URL or secret.
 */
export function webhookRecord(room: string, by: User, events: readonly string[] | null, action: WebhookAction): string {
  const record: WebhookRecord = {
    v: ROOM_RECORD_VERSION,
    kind: 'webhook',
    room,
    user: { id: by.id, name: by.name },
    events: events === null ? null : [...events],
    action,
  };
  return JSON.stringify(record);
}

/** The frame of a stored webhook record. */
function webhookFrameOf(record: WebhookRecord, eventId: string): WebhookChangeFrame {
  return {
    type: 'webhook',
    webhook: record.events === null ? null : { events: record.events },
    by: record.user,
    eventId,
    ...(record.action !== undefined ? { action: record.action } : {}),
  };
}

/** A room's settings as stored beside its log (their JSON), or the defaults when none are (or they are malformed). */
export function storedSettings(json: string | null): RoomSettings {
  if (json === null) return DEFAULT_ROOM_SETTINGS;
  const settings = decodeWith(RoomSettingsSchema, safeParse(json));
  return settings.ok ? settings.value : DEFAULT_ROOM_SETTINGS;
}

/** The frame of a stored settings record. */
function settingsFrameOf(record: SettingsRecord, eventId: string): SettingsFrame {
  return { type: 'settings', ...record.settings, by: record.user, eventId };
}

/** A person from the JSON a room stored them as, or by id alone when it has none (or it is malformed). */
export function personOf(json: string | null, userId: string): User {
  if (json !== null) {
    const user = decodeWith(PresencePayloadSchema, safeParse(json));
    if (user.ok && user.value.id === userId) return { id: user.value.id, name: user.value.name };
  }
  return { id: userId, name: '' };
}

function safeParse(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

/** The frame of a stored moderation record. */
function moderationFrameOf(record: ModerationRecord, eventId: string): ModerationFrame {
  const frame: ModerationFrame = {
    type: 'moderation',
    action: record.action,
    user: record.user,
    by: record.by,
    eventId,
  };
  if (record.until !== undefined) frame.until = record.until;
  if (record.reason !== undefined) frame.reason = record.reason;
  if (record.count !== undefined) frame.count = record.count;
  return frame;
}

/**
 * A person's JSON as typing notices and moderation records carry it. (Presence stores each
 * person's member entry instead, see member-entry.ts; its `{id, name}` are read the same way.)
 */
export function presencePayload(user: User): string {
  return JSON.stringify({ id: user.id, name: user.name } satisfies User);
}

/**
 * A log entry as the read script returns it: the entry, then the state of the message it is
 * about (its own, or the one it changed), each null when there is none: current text, time of
 * the last edit, reaction lines, and the current text of the message a reply answers.
 */
export type LogItem = [
  id: string,
  fields: string[],
  text: string | null,
  editedTs: string | null,
  reactions: string | null,
  answeredText: string | null,
];

/**
 * A log entry read back: a message in its latest state, a change (the message changed and how),
 * or an entry about the room (moderation, settings, webhook).
 */
export type LogRecord =
  | { kind: 'message'; message: StoredMessage }
  | RoomEntry
  | { kind: 'change'; op: ChangeOp; target: string; frame: ChangeFrame | undefined };

/**
 * What a log entry holds, with its message's state. `r` holds a record of this release or the
 * one before (whose message records carry their text), `b` one of the first release. Entries are
 * written only by the scripts, so they are read without a full schema check (a welcome reads
 * hundreds); a malformed one is skipped (undefined).
 */
export function recordOfItem(item: LogItem): LogRecord | undefined {
  const [id, fields, text, editedTs, reactions, answeredText] = item;
  let record: Partial<MessageRecord> | Partial<ChangeRecord>;
  try {
    record = JSON.parse(field(fields, 'r') ?? field(fields, 'b') ?? 'null') as typeof record;
  } catch {
    return undefined;
  }
  if (typeof record?.user?.id !== 'string' || typeof record.room !== 'string') return undefined;
  if ((record as { kind?: string }).kind === 'settings') {
    const settings = decodeWith(SettingsRecordSchema, record);
    return settings.ok ? { kind: 'settings', frame: settingsFrameOf(settings.value, id) } : undefined;
  }
  if ((record as { kind?: string }).kind === 'webhook') {
    const webhook = decodeWith(WebhookRecordSchema, record);
    return webhook.ok ? { kind: 'webhook', frame: webhookFrameOf(webhook.value, id) } : undefined;
  }
  if ((record as { kind?: string }).kind === 'moderation') {
    const moderation = decodeWith(ModerationRecordSchema, record);
    return moderation.ok ? { kind: 'moderation', frame: moderationFrameOf(moderation.value, id) } : undefined;
  }
  if (record.kind === 'change') {
    const target = field(fields, 't');
    if (target === undefined || typeof record.op !== 'string') return undefined;
    // The state of the message changed, as the change's frame shows it.
    const state = messageWithState(
      { type: 'message', id: target, ts: idTime(target), room: record.room, user: record.user },
      text,
      editedTs,
      reactions,
    );
    return { kind: 'change', op: record.op, target, frame: changeFrameFor(record.op, state, id) };
  }
  const inline = (record as Partial<MessageRecord>).text;
  // Version 2 keeps the text beside the log: none there means deleted. Earlier ones carry it.
  const message = messageWithState(
    { type: 'message', id, ts: idTime(id), room: record.room, user: record.user },
    text ?? (typeof inline === 'string' ? inline : null),
    editedTs,
    reactions,
  );
  const { clientMsgId, replyTo } = record as Partial<MessageRecord>;
  if (clientMsgId !== undefined) message.clientMsgId = clientMsgId;
  if (replyTo !== undefined) message.replyTo = replyRef(replyTo, answeredText);
  return { kind: 'message', message };
}

/** A message with the state kept beside the log: its text (null: deleted), edit time, reactions. */
function messageWithState(
  message: StoredMessage,
  text: string | null,
  editedTs: string | null,
  reactions: string | null,
): StoredMessage {
  if (text === null) {
    message.deleted = true;
    return message;
  }
  message.text = text;
  if (editedTs !== null) message.editedTs = Number(editedTs);
  if (reactions !== null && reactions !== '') message.reactions = parseReactionLines(reactions);
  return message;
}

/** What a reply shows of the message it answers (no excerpt once that one is deleted or gone). */
function replyRef(
  replyTo: { id: string; user: User },
  answeredText: string | null | undefined,
): MessageFrame['replyTo'] {
  const excerpt = replyExcerpt(answeredText ?? undefined);
  return excerpt === undefined
    ? { id: replyTo.id, user: replyTo.user }
    : { id: replyTo.id, user: replyTo.user, excerpt };
}

/** Reaction lines as the scripts write them: `<emoji>\t<user id> <user id>…`, one per emoji. */
export function parseReactionLines(lines: string): Reaction[] {
  const reactions: Reaction[] = [];
  for (const line of lines.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab <= 0) continue;
    const userIds = line
      .slice(tab + 1)
      .split(' ')
      .filter((id) => id !== '');
    if (userIds.length > 0) reactions.push({ emoji: line.slice(0, tab), count: userIds.length, userIds });
  }
  return reactions;
}

/** The room's message count at a log entry (`s`), for the hub's gap check. */
export function seqOfEntry(entry: LogItem | undefined): number | undefined {
  const seq = entry === undefined ? undefined : field(entry[1], 's');
  return seq === undefined ? undefined : Number(seq);
}

/** A frame one instance published to a room's channel, decoded and checked. */
export type BusFrame = { event: RoomEvent; seq?: number };

/** The header's first word: frames of another format (a newer release) are told apart from ours. */
const BUS_FORMAT = 'v1';

/**
 * The frame an instance publishes for a typing notice (messages and presence are published by
 * the scripts, in the same format: `v1 <kind> <id|-> <seq|-> <ts|->` then a newline and the body).
 */
export function typingBusFrame(user: User): string {
  return `${BUS_FORMAT} typing - - -\n${presencePayload(user)}`;
}

/**
 * Decodes what arrived on a room's channel, checking it against the catalogue's schemas. Frames
 * of the first release (a JSON event) are still read, for a Redis shared with such an instance.
 *
 * @returns The event, or why it was dropped (someone else published on our channel, or a bug).
 */
export function decodeBusFrame(payload: string, room: string): BusFrame | string {
  if (payload.startsWith('{')) return decodeFirstReleaseFrame(payload, room);
  const newline = payload.indexOf('\n');
  // The sixth field: a message's text length in bytes; a join's or leave's count of people present after it.
  const [format, kind, id, seq, ts, textBytes] = payload.slice(0, newline).split(' ');
  if (newline < 0 || format !== BUS_FORMAT) return 'not a bus frame of this release';
  // The body: a JSON line (JSON text has no raw newline), then for messages and changes what
  // the scripts put after it (text, reaction lines).
  const end = payload.indexOf('\n', newline + 1);
  const rest = end < 0 ? '' : payload.slice(end + 1);
  let json: unknown;
  try {
    json = JSON.parse(end < 0 ? payload.slice(newline + 1) : payload.slice(newline + 1, end));
  } catch {
    return 'malformed body';
  }
  switch (kind) {
    case 'message': {
      const record = decodeWith(MessageRecordSchema, json);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id)) return 'malformed message';
      // This release publishes the text after the record (its length in bytes in the header),
      // then, for a reply, the current text of the message answered; the one before, inside it.
      let text = record.value.text;
      let answered: string | undefined;
      if (text === undefined) {
        if (textBytes === undefined || !/^\d+$/.test(textBytes)) return 'malformed message';
        const tail = Buffer.from(rest);
        text = tail.subarray(0, Number(textBytes)).toString();
        answered = tail.subarray(Number(textBytes)).toString();
      }
      const message: MessageFrame = { type: 'message', id, ts: idTime(id), room, user: record.value.user, text };
      if (record.value.clientMsgId !== undefined) message.clientMsgId = record.value.clientMsgId;
      if (record.value.replyTo !== undefined) message.replyTo = replyRef(record.value.replyTo, answered || undefined);
      return { event: { kind: 'message', message }, seq: Number(seq) };
    }
    case 'change': {
      const record = decodeWith(ChangeRecordSchema, json);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id)) return 'malformed change';
      const change = changeOfBus(record.value, id, rest);
      if (change === undefined) return 'malformed change';
      return { event: { kind: 'change', room, change }, seq: Number(seq) };
    }
    case 'moderation': {
      const record = decodeWith(ModerationRecordSchema, json);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id))
        return 'malformed moderation';
      return {
        event: { kind: 'moderation', room, moderation: moderationFrameOf(record.value, id) },
        seq: Number(seq),
      };
    }
    case 'settings': {
      const record = decodeWith(SettingsRecordSchema, json);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id)) return 'malformed settings';
      return { event: { kind: 'settings', room, settings: settingsFrameOf(record.value, id) }, seq: Number(seq) };
    }
    case 'join':
    case 'leave': {
      // A join carries the member entry and role; a leave, the stored entry read as `{id, name}`.
      const user = decodeWith(kind === 'join' ? JoinPayloadSchema : PresencePayloadSchema, json);
      if (!user.ok || !/^\d+$/.test(ts ?? '')) return `malformed ${kind}`;
      // (Instances of the release before counts publish none.)
      const count = textBytes !== undefined && /^\d+$/.test(textBytes) ? { count: Number(textBytes) } : {};
      return { event: { kind, room, user: user.value, ts: Number(ts), ...count } };
    }
    case 'typing': {
      const user = decodeWith(PresencePayloadSchema, json);
      if (!user.ok) return 'malformed typing';
      return { event: { kind: 'typing', room, user: user.value } };
    }
    case 'webhook': {
      // (The release before published a notice without a log id: not an entry, dropped.)
      const record = decodeWith(WebhookRecordSchema, json);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id))
        return 'malformed webhook change';
      return { event: { kind: 'webhook', room, webhook: webhookFrameOf(record.value, id) }, seq: Number(seq) };
    }
    default:
      return `unknown kind ${kind}`;
  }
}

/** The frame of a published change: the record, then the new text (edit) or reaction lines. */
function changeOfBus(record: ChangeRecord, eventId: string, tail: string): ChangeFrame | undefined {
  switch (record.op) {
    case 'edit':
      return { type: 'edit', id: record.id, text: tail, editedTs: idTime(eventId), eventId };
    case 'delete':
      return { type: 'delete', id: record.id, eventId };
    case 'react':
    case 'unreact':
      return { type: 'reactions', id: record.id, reactions: parseReactionLines(tail), eventId };
  }
}

/** `{"kind": …}` events as the first release published them (with `seq` beside a message). */
function decodeFirstReleaseFrame(payload: string, room: string): BusFrame | string {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch {
    return 'malformed JSON';
  }
  const event = decodeWith(RoomEventSchema, json);
  if (!event.ok) return 'an event of the wrong shape';
  const ofRoom = event.value.kind === 'message' ? event.value.message.room : event.value.room;
  if (ofRoom !== room) return 'an event of another room';
  const seq = (json as { seq?: unknown }).seq;
  return typeof seq === 'number' ? { event: event.value, seq } : { event: event.value };
}

function field(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}
