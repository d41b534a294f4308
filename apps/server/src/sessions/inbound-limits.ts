import type { Config } from '../config.ts';
import { TokenBucket } from '../limits/token-bucket.ts';

/** Invalid frames and frames over the budget are counted over this window for the close rule. */
const STRIKE_WINDOW_MS = 60_000;

/**
 * The rules every inbound frame of one connection passes before it is even parsed: its frame
 * budget, and the count of frames it sent that were refused. Made at a connection's first
 * frame: idle connections, the most numerous, need none.
 */
export class InboundLimits {
  private readonly frameRate: TokenBucket;
  private invalid = 0;
  private dropped = 0;
  private windowStart = Date.now();

  constructor(private readonly config: Config) {
    this.frameRate = new TokenBucket(config.frameRatePerConnection, config.frameBurstPerConnection);
  }

  /** Takes a token from the connection's frame budget. */
  takeFrame(): boolean {
    return this.frameRate.take();
  }

  /**
   * Counts an invalid frame or a frame dropped over the budget. More than INVALID_FRAMES_MAX
   * invalid frames, or more than FRAME_BURST_PER_CONNECTION dropped ones, within a minute: the
   * client keeps sending what the server refuses, and each refusal costs a parse and an error.
   *
   * @returns The rule broken, when the connection must be closed (1008); else undefined.
   */
  strike(kind: 'invalid' | 'dropped', now: number = Date.now()): string | undefined {
    if (now - this.windowStart > STRIKE_WINDOW_MS) {
      this.invalid = 0;
      this.dropped = 0;
      this.windowStart = now;
    }
    const { invalidFramesMax, frameBurstPerConnection } = this.config;
    if (kind === 'invalid' && ++this.invalid > invalidFramesMax && invalidFramesMax > 0) {
      return `more than ${invalidFramesMax} invalid frames in a minute`;
    }
    if (kind === 'dropped' && ++this.dropped > frameBurstPerConnection) {
      return `more than ${frameBurstPerConnection} frames over the rate limit in a minute`;
    }
    return undefined;
  }
}
