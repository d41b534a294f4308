import * as v from 'valibot';

// How deliveries of events to webhooks went, as the operator (GET /api/admin/webhooks) and a
// room's owner (the `webhook` frame) see them: counts, and attempts. No body or answer is kept.

/** One attempt to deliver an event to a webhook (instance-wide, a room's) or a bot. */
export const DeliveryAttemptSchema = v.object({
  /** When it ended (ms). */
  at: v.number(),
  /** The delivery's id (Parley-Delivery): the same for every attempt of one event. */
  deliveryId: v.string(),
  /** The event delivered (`message`, `mention`, …). */
  event: v.string(),
  /** Which attempt of the delivery (1: the first). */
  attempt: v.number(),
  /** The receiver's HTTP status, when it answered. */
  status: v.optional(v.number()),
  /**
   * What went wrong, when something did: no answer (a timeout, a network error, an address
   * refused), a status, a bot's answer that could not be used, a bot's reply the room refused.
   */
  error: v.optional(v.string()),
  /** Whether it will be tried again. */
  retry: v.optional(v.boolean()),
});
export type DeliveryAttempt = v.InferOutput<typeof DeliveryAttemptSchema>;

/** How many deliveries (one event to one URL) one instance made to one target since it started. */
export const DeliveryCountsSchema = v.object({
  /** Answered with a 2xx. */
  delivered: v.number(),
  /** Given up: attempts used up, a status not worth retrying, an address refused, a bot's unusable answer. */
  failed: v.number(),
  /** Attempts that were retries. */
  retried: v.number(),
  /**
   * Never queued: the instance held WEBHOOK_QUEUE_MAX deliveries (a room's webhook: or
   * ROOM_WEBHOOK_QUEUE_PER_ROOM of that room's), or the body was too large.
   */
  dropped: v.number(),
  /** Held now: queued, in flight or waiting to retry. */
  queued: v.number(),
});
export type DeliveryCounts = v.InferOutput<typeof DeliveryCountsSchema>;
