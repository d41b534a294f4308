import WebSocket from 'ws';

/**
 * A light `parley.v1` socket for tests with hundreds of people in one room: it keeps its welcome
 * (parsed, and its size on the wire) and counts the frames after it by type, with when each
 * arrived, instead of queueing every frame as TestClient does.
 */
export class CrowdMember {
  welcome: any;
  welcomeBytes = 0;
  /** Every frame after the welcome: its type, its time (Date.now()) and the frame itself. */
  readonly frames: Array<{ type: string; at: number; frame: any }> = [];

  private constructor(readonly socket: WebSocket) {}

  /** Opens a socket into `room` (recovering after `since`, if given) and waits for its welcome (fails after `timeoutMs`). */
  static async join(
    wsUrl: string,
    room: string,
    name: string,
    timeoutMs = 10_000,
    since?: string,
  ): Promise<CrowdMember> {
    const query = new URLSearchParams({ name, ...(since !== undefined ? { since } : {}) });
    const socket = new WebSocket(`${wsUrl}/ws/chat/${encodeURIComponent(room)}/?${query}`, ['parley.v1']);
    const member = new CrowdMember(socket);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no welcome within ${timeoutMs} ms`)), timeoutMs);
      socket.on('message', (data: Buffer) => {
        const frame = JSON.parse(data.toString());
        if (member.welcome === undefined && frame.type === 'welcome') {
          member.welcome = frame;
          member.welcomeBytes = data.length;
          clearTimeout(timer);
          resolve();
          return;
        }
        member.frames.push({ type: frame.type, at: Date.now(), frame });
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return member;
  }

  get id(): string {
    return this.welcome.you.id;
  }

  /** Frames of a type received so far. */
  ofType(type: string): any[] {
    return this.frames.filter((f) => f.type === type).map((f) => f.frame);
  }

  send(frame: unknown): void {
    this.socket.send(JSON.stringify(frame));
  }

  /** Closes the socket and waits until it is closed. */
  async leave(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.socket.once('close', () => resolve()));
    this.socket.close();
    await closed;
  }
}

/**
 * Opens `count` members into a room, `batchSize` at a time (each batch waits for its welcomes),
 * spread over the given servers in turn; named `<prefix>-<i>`.
 */
export async function openCrowd(
  wsUrls: string[],
  room: string,
  count: number,
  { batchSize = 50, prefix = 'p' }: { batchSize?: number; prefix?: string } = {},
): Promise<CrowdMember[]> {
  const members: CrowdMember[] = [];
  for (let start = 0; start < count; start += batchSize) {
    const batch = [];
    for (let i = start; i < Math.min(count, start + batchSize); i++)
      batch.push(CrowdMember.join(wsUrls[i % wsUrls.length]!, room, `${prefix}-${i}`));
    members.push(...(await Promise.all(batch)));
  }
  return members;
}

/** Closes every member, `batchSize` at a time. */
export async function closeCrowd(members: CrowdMember[], batchSize = 100): Promise<void> {
  for (let start = 0; start < members.length; start += batchSize)
    await Promise.all(members.slice(start, start + batchSize).map((m) => m.leave()));
}

/** Waits until `check` holds (it may be async), polling every 20 ms; fails after `timeoutMs` with `what`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
