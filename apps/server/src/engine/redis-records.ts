import {
  MessageRecordSchema,
  PresencePayloadSchema,
  ROOM_RECORD_VERSION,
  RoomEventSchema,
  decodeWith,
  isMessageId,
  type MessageFrame,
  type MessageRecord,
  type RoomEvent,
  type User,
} from '@parley/protocol';
import { idTime, type StoredMessage } from './engine.ts';

// How room events are written to and read from Redis: the stored record of a message (a
// stream entry), and the frames instances publish to each other. Everything here is built and
// checked in TypeScript against the protocol's catalogue; the Lua scripts only put a header of
// plain values (kind, id, seq, time) in front of a body serialised here, and never build JSON.

/** The record of a message, as the post script stores it (stream field `r`) and publishes it. */
export function messageRecord(message: Omit<MessageRecord, 'v' | 'kind'>): string {
  const record: MessageRecord = {
    v: ROOM_RECORD_VERSION,
    kind: 'message',
    room: message.room,
    user: message.user,
    text: message.text,
  };
  if (message.clientMsgId !== undefined) record.clientMsgId = message.clientMsgId;
  return JSON.stringify(record);
}

/** The JSON a person is stored as in a room's presence (and published as in their join and leave). */
export function presencePayload(user: User): string {
  return JSON.stringify({ id: user.id, name: user.name } satisfies User);
}

type StreamEntry = [id: string, fields: string[]];

/**
 * A message from a log entry: `r` holds a record of this release, `b` one of the first release
 * (its fields without `v` and `kind`). Entries are written only by the post script, so they are
 * read without a full schema check (a welcome reads hundreds); a malformed one is skipped.
 */
export function messageOfEntry([id, fields]: StreamEntry): StoredMessage | undefined {
  const body = field(fields, 'r') ?? field(fields, 'b');
  let record: Partial<MessageRecord>;
  try {
    record = JSON.parse(body ?? 'null') as Partial<MessageRecord>;
  } catch {
    return undefined;
  }
  if (typeof record?.text !== 'string' || typeof record.user?.id !== 'string' || typeof record.room !== 'string')
    return undefined;
  const message: MessageFrame = {
    type: 'message',
    id,
    ts: idTime(id),
    room: record.room,
    user: record.user,
    text: record.text,
  };
  if (record.clientMsgId !== undefined) message.clientMsgId = record.clientMsgId;
  return message;
}

/** The room's message count at a log entry (`s`), for the hub's gap check. */
export function seqOfEntry(entry: StreamEntry | undefined): number | undefined {
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
  const [format, kind, id, seq, ts] = payload.slice(0, newline).split(' ');
  if (newline < 0 || format !== BUS_FORMAT) return 'not a bus frame of this release';
  let body: unknown;
  try {
    body = JSON.parse(payload.slice(newline + 1));
  } catch {
    return 'malformed body';
  }
  switch (kind) {
    case 'message': {
      const record = decodeWith(MessageRecordSchema, body);
      if (!record.ok || record.value.room !== room || id === undefined || !isMessageId(id)) return 'malformed message';
      const message: MessageFrame = {
        type: 'message',
        id,
        ts: idTime(id),
        room,
        user: record.value.user,
        text: record.value.text,
      };
      if (record.value.clientMsgId !== undefined) message.clientMsgId = record.value.clientMsgId;
      return { event: { kind: 'message', message }, seq: Number(seq) };
    }
    case 'join':
    case 'leave': {
      const user = decodeWith(PresencePayloadSchema, body);
      if (!user.ok || !/^\d+$/.test(ts ?? '')) return `malformed ${kind}`;
      return { event: { kind, room, user: user.value, ts: Number(ts) } };
    }
    case 'typing': {
      const user = decodeWith(PresencePayloadSchema, body);
      if (!user.ok) return 'malformed typing';
      return { event: { kind: 'typing', room, user: user.value } };
    }
    default:
      return `unknown kind ${kind}`;
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
