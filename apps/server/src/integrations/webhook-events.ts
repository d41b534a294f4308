import { createHash } from 'node:crypto';
import type { User, WebhookEvent } from '@parley/protocol';
import { idTime, type ChangeDraft, type MessageDraft } from '../engine/engine.ts';

// The bodies of webhook deliveries (the protocol's WebhookEventSchema), made from what the room
// hub tells its activities: the operator's webhooks (webhooks.ts) and rooms' (room-webhooks.ts)
// send the same bodies under the same delivery ids.

/** A delivery id made from the event itself: whoever tells it, however often, gives the same one. */
export function deliveryIdOf(event: string, room: string, key: string): string {
  return `d_${createHash('sha256').update(`${event}\n${room}\n${key}`).digest('base64url').slice(0, 24)}`;
}

/** A message stored under `id` (or found stored: a resend gets the first one's id, and so its delivery id). */
export function messageEvent(draft: MessageDraft, id: string): WebhookEvent {
  const { room, user, text, clientMsgId, replyTo } = draft;
  return {
    event: 'message',
    deliveryId: deliveryIdOf('message', room, id),
    room,
    ts: idTime(id),
    message: {
      id,
      user,
      text,
      ...(clientMsgId !== undefined ? { clientMsgId } : {}),
      ...(replyTo !== undefined ? { replyTo } : {}),
    },
  };
}

/** An edit or a deletion stored under `eventId`; undefined for the other changes (reactions). */
export function changeEvent(draft: ChangeDraft, eventId: string): WebhookEvent | undefined {
  const { room, user: by, id } = draft;
  const base = { room, ts: idTime(eventId) };
  if (draft.op === 'edit' && draft.text !== undefined)
    return {
      event: 'edit',
      deliveryId: deliveryIdOf('edit', room, eventId),
      ...base,
      edit: { id, eventId, text: draft.text, by },
    };
  if (draft.op === 'delete')
    return { event: 'delete', deliveryId: deliveryIdOf('delete', room, eventId), ...base, delete: { id, eventId, by } };
  return undefined;
}

/**
 * A join or a leave, and with it `room.occupied` when it made the room's count of people present
 * 1 (nobody else was there: only the one call that made it 1 sees it) or `room.vacated` when it
 * made it 0. `ts`: when the engine said so.
 */
export function presenceEvents(
  kind: 'join' | 'leave',
  room: string,
  user: User,
  count: number,
  ts: number = Date.now(),
): WebhookEvent[] {
  const key = `${user.id}\n${ts}`;
  const events: WebhookEvent[] = [{ event: kind, deliveryId: deliveryIdOf(kind, room, key), room, ts, user }];
  const edge = kind === 'join' ? (count === 1 ? 'room.occupied' : undefined) : count === 0 ? 'room.vacated' : undefined;
  if (edge !== undefined) events.push({ event: edge, deliveryId: deliveryIdOf(edge, room, key), room, ts, user });
  return events;
}
