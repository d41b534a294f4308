import type { RawData } from 'ws';
import { checkMessageText, decodeReferenceClientFrame } from '@parley/protocol';
import { EngineUnavailableError } from '../engine/engine.ts';
import type { OutgoingMessage } from '../rooms/outgoing-message.ts';
import { SocketSession } from './socket-session.ts';

/**
 * A client of the reference (Django Channels tutorial) protocol: it sends `{"message": text}`
 * and receives `{"message": text}` for every message of the room, its own included.
 */
export class ReferenceSession extends SocketSession {
  protected readonly protocol = 'reference';

  deliver(message: OutgoingMessage): void {
    this.send(message.referenceFrame);
  }

  protected handleFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.sendError('bad_frame', 'Binary frames are not supported; send JSON text.');
      return;
    }
    const frame = decodeReferenceClientFrame(data.toString());
    if (!frame.ok) {
      this.sendError(frame.code, frame.message);
      return;
    }
    const text = checkMessageText(frame.value.message, this.deps.config.maxTextBytes);
    if (!text.ok) {
      this.sendError(text.code, text.message);
      return;
    }
    this.deps.engine.publish({ room: this.room, text: text.value, ts: Date.now() }).catch((err: unknown) => {
      if (err instanceof EngineUnavailableError) {
        this.sendError('unavailable', 'The message was not sent: the chat service is briefly unavailable. Send it again.');
      } else {
        this.log.error({ err }, 'publish failed');
        this.sendError('internal', 'The message was not sent because of a server error.');
      }
    });
  }
}
