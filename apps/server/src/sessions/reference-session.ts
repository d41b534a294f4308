import { checkMessageText, decodeReferenceClientFrame, type User } from '@parley/protocol';
import { ANONYMOUS_ID_PREFIX } from '../engine/engine.ts';
import type { OutgoingBatch } from '../rooms/outgoing-event.ts';
import type { FrameParts } from '../wire/frames.ts';
import { SocketSession } from './socket-session.ts';

/**
 * A client of the reference (Django Channels tutorial) protocol: it sends `{"message": text}`
 * and receives `{"message": text}` for every message of the room, its own included. It has no
 * name, so it posts as "Anonymous" and does not appear among the members.
 */
export class ReferenceSession extends SocketSession {
  protected readonly protocol = 'reference';
  readonly userId = undefined;
  /** It has no identity: each connection posts as its own `anon_…` id. */
  private readonly author: User = { id: `${ANONYMOUS_ID_PREFIX}${this.id.slice(0, 8)}`, name: 'Anonymous' };
  protected get standingId(): string {
    return this.author.id;
  }

  // The reference protocol has no way to say so; sends during an outage still get an error.
  busStatus(): void {}

  // Reference clients have no `since` to recover with; closing would only lose them the room.
  override resync(): void {}

  /**
   * A reference client has no identity, so nothing can let it into an invite-only room (it
   * could never be let in for good), and the only ban that can name it is its address's: both
   * keep it out (`invite_required` / `banned`, close 4403), so neither is read around by
   * switching protocols. Checked once the socket is in the room (its events held until then),
   * not before: a reference client has no `since`, so a message sent while it was being set up
   * would otherwise be lost to it; if it is refused, nothing held reaches it.
   */
  protected override async welcome(): Promise<void> {
    const standing = await this.deps.hub.standing(this.room, this.author.id, this.addressKey);
    if (standing.bannedUntil !== undefined) this.closeRemoved('banned', standing.bannedUntil);
    else if (standing.settings.inviteOnly) this.closeRemoved('invite_required', undefined);
  }

  // Reference clients get every message of the room and nothing else.
  protected framesFor(batch: OutgoingBatch): FrameParts | undefined {
    const frames = batch.reference;
    if (frames !== undefined) this.deps.stats.messagesOut += batch.messageCount;
    return frames;
  }

  protected handleText(raw: string): void {
    const frame = decodeReferenceClientFrame(raw);
    if (!frame.ok) {
      this.refuseFrame(frame.code, frame.message);
      return;
    }
    const text = checkMessageText(frame.value.message, this.deps.config.maxTextBytes);
    if (!text.ok) {
      this.refuseFrame(text.code, text.message);
      return;
    }
    if (!this.allowMessage()) return;
    const draft = { room: this.room, user: this.author, text: text.value, address: this.addressKey };
    this.track(this.deps.hub.post(draft)).then(
      (result) => {
        // (A banned address is refused here too, and the before-publish hook's refusals, with
        // its reason: a reference client that shows only `{"message"}` frames shows nothing of it.)
        if (result.outcome === 'refused') this.sendError(result.code, result.reason ?? 'The message was not sent.');
        else this.deps.stats.messagesIn += 1;
      },
      (err: unknown) => this.reportPostFailure(err),
    );
  }
}
