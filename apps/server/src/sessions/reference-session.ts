import { checkMessageText, decodeReferenceClientFrame, type User } from '@parley/protocol';
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
  private author: User | undefined;

  // The reference protocol has no way to say so; sends during an outage still get an error.
  busStatus(): void {}

  // Reference clients have no `since` to recover with; closing would only lose them the room.
  override resync(): void {}

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
    this.author ??= { id: `anon_${this.id.slice(0, 8)}`, name: 'Anonymous' };
    this.track(this.deps.hub.post({ room: this.room, user: this.author, text: text.value })).then(
      () => {
        this.deps.stats.messagesIn += 1;
      },
      (err: unknown) => this.reportPostFailure(err),
    );
  }
}
