// Workload g's clients, in the generator process: R rooms × C clients on one instance, S senders
// per room publishing at a total rate, and when that instance goes away, every client reconnects
// to the one taking over as the web client does: after a jittered delay (the web client's
// backoff), with its identity token and `since` = the newest log id it holds, and each sender
// resends what was not acked (same clientMsgId: stored once). At the end every client's messages
// are compared with what was acked to the senders of its room.
//
// Socket.IO clients do the same where its protocol allows: reconnect with the same jitter and
// send what was queued meanwhile (socket.io-client buffers emits while disconnected); it has no
// acks, ids or `since` here (the Redis adapter keeps no history), so "acked" means written to an
// open socket.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { SIO_CONNECT, SIO_PONG, connectUrl, makeText, readMarker, subprotocols } from '../protocols.ts';

export interface DeployConnectRequest {
  /** The instance every client starts on (ws://host:port). */
  endpoint: string;
  /** The instance clients reconnect to once theirs is gone. */
  takeover: string;
  protocol: 'v1' | 'socketio';
  rooms: number;
  clientsPerRoom: number;
  sendersPerRoom: number;
  roomPrefix: string;
  concurrency: number;
  timeoutMs: number;
  /** Reconnect delay: full jitter in [minMs, window), the window doubling per failed attempt up to maxMs. */
  backoff: { minMs: number; maxMs: number };
  textBytes: number;
}

export interface DeployConnectResult {
  requested: number;
  connected: number;
  elapsedMs: number;
  firstError?: string;
}

export interface DeployWaitResult {
  /** Every client dropped by the old instance and recovered (v1: a welcome with recovered: true, then any `after` pages). */
  allRecovered: boolean;
  clients: number;
  recoveredClients: number;
  /** Clients whose welcome after the drop said recovered: false (a gap). */
  recoveredFalse: number;
  /** Clients never dropped by the old instance (still open on it). */
  neverDropped: number;
  /** Ms from the mark (the harness's SIGTERM) until the last client recovered. */
  lastRecoveredMs: number;
  /** Ms from the mark until the last client was dropped. */
  lastDroppedMs: number;
  /** Per client, ms from its drop until it had recovered. */
  outageMs: { p50: number; p99: number; max: number };
  /** Connection attempts after the mark, and how many of them failed. */
  attempts: number;
  failedAttempts: number;
  /** Welcomes with hasNewer: true, and the `after` pages fetched for them. */
  hasNewer: number;
  pages: number;
}

export interface DeployFinishResult {
  /** Messages the senders made (each with its own clientMsgId). */
  sent: number;
  acked: number;
  /** Still not acked at the end of the drain. */
  unacked: number;
  /** Sends of a message again after a reconnect or a silent server (same clientMsgId). */
  resends: number;
  /** Deliveries owed: every acked message to every client of its room. */
  expected: number;
  delivered: number;
  /** Owed deliveries that never came, and the clients that missed at least one. */
  missed: number;
  clientsMissing: number;
  duplicates: number;
  /** Messages received that were never acked to their sender. */
  unackedReceived: number;
  errors: number;
  firstError?: string;
  drainMs: number;
}

export type DeployCommand =
  | { cmd: 'deploy-connect'; args: DeployConnectRequest }
  | { cmd: 'deploy-start'; args: { rate: number } }
  | { cmd: 'deploy-mark' }
  | { cmd: 'deploy-wait'; args: { timeoutMs: number } }
  | { cmd: 'deploy-finish'; args: { drainMs: number } };

interface Room {
  name: string;
  clients: Client[];
  /** Message numbers acked to its senders. */
  acked: Set<number>;
}

interface Pending {
  n: number;
  clientMsgId: string;
  text: string;
  lastSentAt: number;
}

interface Client {
  room: Room;
  name: string;
  ws: WebSocket | undefined;
  /** Welcomed (v1) / namespace joined (Socket.IO) on the current socket. */
  ready: boolean;
  token: string | undefined;
  /** The newest log id the client holds with nothing missing before it (v1): what it reconnects with. */
  since: string | undefined;
  /** While a recovery is paged in over HTTP: the last id paged so far (live messages are newer than the hole). */
  hole: string | undefined;
  /** The newest live message id seen while the hole was open. */
  newestLive: string | undefined;
  /** Welcomes so far: a page loop of an earlier socket stops when a new welcome came. */
  welcomes: number;
  received: Set<number>;
  duplicates: number;
  /** Failed attempts since the last welcome (the backoff grows with them). */
  attempts: number;
  droppedAt: number;
  recoveredAt: number;
  /** The welcome's `recovered` after the drop (v1). */
  recovered: boolean | undefined;
  /** Unacked messages of a sender, in order of sending. */
  outbox: Map<string, Pending> | undefined;
  retry: NodeJS.Timeout | undefined;
}

/**
 * The web client's reconnect delay (packages/client/src/connection/backoff.ts, backoffDelay with
 * RECONNECT_BACKOFF, which the web app uses): a random point between minMs and a window that
 * doubles per failed attempt. Written out here: the bench does not depend on the client package.
 */
export function backoffDelay(attempt: number, o: { minMs: number; maxMs: number }): number {
  const exponent = Math.min(Math.max(0, Math.floor(attempt)), 30);
  const window = Math.min(o.maxMs, o.minMs * 2 ** (exponent + 1));
  const jittered = o.minMs + Math.floor(Math.random() * Math.max(0, window - o.minMs));
  return Math.min(o.maxMs, Math.max(o.minMs, jittered));
}

/** Compares two log ids `<ms>-<seq>` numerically. */
function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return am.length !== bm.length
    ? am.length - bm.length
    : am !== bm
      ? am < bm
        ? -1
        : 1
      : as.length !== bs.length
        ? as.length - bs.length
        : as < bs
          ? -1
          : as > bs
            ? 1
            : 0;
}

const V1_MESSAGE_ID = Buffer.from('{"type":"message","id":"');
const V1_WELCOME = Buffer.from('{"type":"welcome"');
const V1_ACK = Buffer.from('{"type":"ack"');
const V1_ERROR = Buffer.from('{"type":"error"');
const MARKER = /~(\d+)~/;

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;
}

interface WelcomeFrame {
  token?: string;
  recovered?: boolean;
  hasNewer?: boolean;
  lastEventId?: string;
  history?: Array<{ id: string; text?: string }>;
}

interface HistoryPage {
  messages?: Array<{ id: string; text?: string }>;
  hasNewer?: boolean;
  lastEventId?: string;
}

const quantile = (sorted: number[], q: number): number =>
  sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

export class DeployGenerator {
  private req: DeployConnectRequest | undefined;
  private rooms: Room[] = [];
  private clients: Client[] = [];
  private senders: Client[] = [];
  private nextN = 1;
  private sendTimer: NodeJS.Timeout | undefined;
  private markAt = NaN;
  private attempts = 0;
  private failedAttempts = 0;
  private hasNewer = 0;
  private pages = 0;
  private resends = 0;
  private errors = 0;
  private firstError: string | undefined;
  private closing = false;
  private readonly marker = new Float64Array(1);

  serve(msg: DeployCommand): Promise<unknown> {
    switch (msg.cmd) {
      case 'deploy-connect':
        return this.connect(msg.args);
      case 'deploy-start':
        this.start(msg.args.rate);
        return Promise.resolve(null);
      case 'deploy-mark':
        this.mark();
        return Promise.resolve(null);
      case 'deploy-wait':
        return this.waitRecovered(msg.args.timeoutMs);
      case 'deploy-finish':
        return this.finish(msg.args.drainMs);
    }
  }

  async connect(req: DeployConnectRequest): Promise<DeployConnectResult> {
    await this.close();
    this.closing = false;
    this.req = req;
    this.nextN = 1;
    this.markAt = NaN;
    this.attempts = this.failedAttempts = this.hasNewer = this.pages = this.resends = this.errors = 0;
    this.firstError = undefined;
    for (let r = 0; r < req.rooms; r++) {
      const room: Room = { name: `${req.roomPrefix}r${r}`, clients: [], acked: new Set() };
      for (let c = 0; c < req.clientsPerRoom; c++) {
        const client: Client = {
          room,
          name: `g${r}c${c}`,
          ws: undefined,
          ready: false,
          token: undefined,
          since: undefined,
          hole: undefined,
          newestLive: undefined,
          welcomes: 0,
          received: new Set(),
          duplicates: 0,
          attempts: 0,
          droppedAt: NaN,
          recoveredAt: NaN,
          recovered: undefined,
          outbox: c < req.sendersPerRoom ? new Map() : undefined,
          retry: undefined,
        };
        room.clients.push(client);
        this.clients.push(client);
        if (client.outbox !== undefined) this.senders.push(client);
      }
      this.rooms.push(room);
    }
    const started = performance.now();
    const deadline = Date.now() + req.timeoutMs;
    let next = 0;
    let firstError: string | undefined;
    const worker = async () => {
      while (next < this.clients.length && Date.now() < deadline) {
        const client = this.clients[next++]!;
        try {
          await this.openFirst(client, req.endpoint, Math.min(15_000, Math.max(1, deadline - Date.now())));
        } catch (err) {
          firstError ??= (err as Error).message;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(req.concurrency, this.clients.length) }, worker));
    const connected = this.clients.filter((c) => c.ready).length;
    return {
      requested: this.clients.length,
      connected,
      elapsedMs: performance.now() - started,
      ...(firstError === undefined ? {} : { firstError }),
    };
  }

  /** The first connection of a client: resolves once it is ready, rejects on failure (no retry). */
  private openFirst(client: Client, base: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        client.ws?.terminate();
        reject(new Error(`not ready within ${timeoutMs} ms`));
      }, timeoutMs);
      this.open(client, base, (err) => {
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      });
    });
  }

  /** Opens a socket for `client`; `settled` is called once, when it is ready or failed before. */
  private open(client: Client, base: string, settled?: (err?: Error) => void): void {
    const req = this.req!;
    let url = connectUrl(req.protocol, base, client.room.name, client.name);
    const protocols = subprotocols(req.protocol);
    if (req.protocol === 'v1') {
      // Like the web client: `since` once it has been in the room, the token as a subprotocol.
      if (!Number.isNaN(client.droppedAt) || client.token !== undefined)
        url += `&since=${encodeURIComponent(client.since ?? '0-0')}`;
      if (client.token !== undefined) protocols.push(`parley.token.${client.token}`);
    }
    const ws = new WebSocket(url, protocols, {
      perMessageDeflate: false,
      skipUTF8Validation: true,
      handshakeTimeout: 15_000,
      maxPayload: 64 * 1024 * 1024,
    });
    client.ws = ws;
    client.ready = false;
    if (!Number.isNaN(this.markAt)) this.attempts += 1;
    let done = settled;
    const settle = (err?: Error) => {
      const d = done;
      done = undefined;
      d?.(err);
    };
    ws.on('message', (data: Buffer) => {
      if (client.ws !== ws) return;
      this.onFrame(client, ws, data, settle);
    });
    ws.on('error', () => {});
    ws.on('close', (code) => {
      if (client.ws !== ws) return;
      const wasReady = client.ready;
      client.ready = false;
      if (!wasReady && !Number.isNaN(this.markAt)) this.failedAttempts += 1;
      settle(new Error(`closed with ${code} before ready`));
      if (this.closing) return;
      if (wasReady && Number.isNaN(client.droppedAt)) client.droppedAt = performance.now();
      this.scheduleReconnect(client);
    });
  }

  private scheduleReconnect(client: Client): void {
    const delay = backoffDelay(client.attempts, this.req!.backoff);
    client.attempts += 1;
    clearTimeout(client.retry);
    client.retry = setTimeout(() => {
      client.retry = undefined;
      if (!this.closing) this.open(client, this.req!.takeover);
    }, delay);
  }

  private onFrame(client: Client, ws: WebSocket, data: Buffer, settle: (err?: Error) => void): void {
    if (this.req!.protocol === 'socketio') {
      const a = data[0];
      const b = data[1];
      if (a === 0x34 && b === 0x32) this.receive(client, readMarker(data, this.marker), true);
      else if (a === 0x32 && data.length === 1) ws.send(SIO_PONG);
      else if (a === 0x30) ws.send(SIO_CONNECT);
      else if (a === 0x34 && b === 0x30) {
        this.welcomed(client, ws);
        if (!Number.isNaN(client.droppedAt)) client.recoveredAt = performance.now();
        settle();
      } else if (a === 0x34 && b === 0x34) this.error(data);
      return;
    }
    if (startsWith(data, V1_MESSAGE_ID)) {
      const n = readMarker(data, this.marker);
      const end = data.indexOf(0x22, V1_MESSAGE_ID.length);
      if (end > 0) {
        const id = data.toString('latin1', V1_MESSAGE_ID.length, end);
        if (client.hole === undefined) client.since = id;
        else client.newestLive = id;
      }
      this.receive(client, n, true);
    } else if (startsWith(data, V1_ACK)) {
      const ack = JSON.parse(data.toString()) as { clientMsgId: string; id: string };
      const pending = client.outbox?.get(ack.clientMsgId);
      if (pending !== undefined) {
        client.outbox!.delete(ack.clientMsgId);
        client.room.acked.add(pending.n);
      }
    } else if (startsWith(data, V1_WELCOME)) {
      const welcome = JSON.parse(data.toString()) as WelcomeFrame;
      if (welcome.token !== undefined) client.token = welcome.token;
      client.welcomes += 1;
      client.hole = client.newestLive = undefined;
      client.since = this.takeHistory(client, welcome.history ?? [], welcome.lastEventId, true) ?? client.since;
      const after = !Number.isNaN(client.droppedAt);
      if (after) client.recovered = welcome.recovered === true;
      this.welcomed(client, ws);
      settle();
      if (welcome.hasNewer === true) {
        this.hasNewer += 1;
        client.hole = client.since;
        void this.fetchPages(client, client.welcomes);
      } else if (after) client.recoveredAt = performance.now();
    } else if (startsWith(data, V1_ERROR)) this.error(data);
  }

  /** The socket is usable: the backoff starts over and the outbox goes out again, in order. */
  private welcomed(client: Client, ws: WebSocket): void {
    client.ready = true;
    client.attempts = 0;
    if (client.outbox === undefined) return;
    const now = performance.now();
    for (const p of client.outbox.values()) {
      if (!Number.isNaN(p.lastSentAt)) this.resends += 1;
      this.write(client, ws, p, now);
    }
    // Socket.IO has no acks: what went out on an open socket counts as acked.
    if (this.req!.protocol === 'socketio') client.outbox.clear();
  }

  private write(client: Client, ws: WebSocket, p: Pending, now: number): void {
    p.lastSentAt = now;
    if (this.req!.protocol === 'v1') ws.send(`{"type":"message","text":"${p.text}","clientMsgId":"${p.clientMsgId}"}`);
    else {
      ws.send(`42["message","${p.text}"]`);
      client.room.acked.add(p.n);
    }
  }

  private error(data: Buffer): void {
    this.errors += 1;
    this.firstError ??= data.toString().slice(0, 300);
  }

  /**
   * A message received; a second copy counts as a duplicate when it came on the socket or in a
   * welcome (the server sends those once), not from an `after` page: live messages may be newer
   * than the hole being paged in, so a page may repeat them, and clients merge pages by id.
   */
  private receive(client: Client, n: number, countDuplicate: boolean): void {
    if (n < 0) return;
    if (!client.received.has(n)) client.received.add(n);
    else if (countDuplicate) client.duplicates += 1;
  }

  /** Takes a welcome's history or a page; returns the newest id it covers (lastEventId, else its last message). */
  private takeHistory(
    client: Client,
    messages: Array<{ id: string; text?: string }>,
    lastEventId: string | undefined,
    countDuplicates: boolean,
  ): string | undefined {
    let newest: string | undefined;
    for (const m of messages) {
      const match = m.text === undefined ? null : MARKER.exec(m.text);
      if (match !== null) this.receive(client, Number(match[1]), countDuplicates);
      if (newest === undefined || compareIds(m.id, newest) > 0) newest = m.id;
    }
    if (lastEventId !== undefined && (newest === undefined || compareIds(lastEventId, newest) > 0))
      newest = lastEventId;
    return newest;
  }

  /**
   * The rest of a recovery that did not fit in the welcome: `after` pages from the welcome's
   * last id, then from each page's, until hasNewer is false; until then the client would
   * reconnect with the last id paged, not the newest live one.
   */
  private async fetchPages(client: Client, welcome: number): Promise<void> {
    const base = this.req!.takeover.replace(/^ws/, 'http');
    try {
      for (let i = 0; i < 1000 && client.welcomes === welcome; i++) {
        const url = `${base}/api/rooms/${encodeURIComponent(client.room.name)}/messages?after=${encodeURIComponent(client.hole ?? '0-0')}&limit=200`;
        const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        this.pages += 1;
        if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
        const page = (await res.json()) as HistoryPage;
        if (client.welcomes !== welcome) return;
        client.hole = this.takeHistory(client, page.messages ?? [], page.lastEventId, false) ?? client.hole;
        client.since = client.hole;
        if (page.hasNewer !== true) break;
      }
      if (client.welcomes !== welcome) return;
      if (client.newestLive !== undefined && compareIds(client.newestLive, client.since ?? '0-0') > 0)
        client.since = client.newestLive;
      client.hole = client.newestLive = undefined;
      if (!Number.isNaN(client.droppedAt)) client.recoveredAt = performance.now();
    } catch (err) {
      this.errors += 1;
      this.firstError ??= (err as Error).message;
    }
  }

  start(rate: number): void {
    const senders = this.senders;
    if (senders.length === 0) throw new Error('no senders: connect first');
    const perSender = rate / senders.length;
    const phase = Float64Array.from(senders, (_, i) => i / senders.length);
    const made = new Float64Array(senders.length);
    const textBytes = this.req!.textBytes;
    const started = performance.now();
    clearInterval(this.sendTimer);
    this.sendTimer = setInterval(() => {
      const now = performance.now();
      const until = (now - started) / 1000;
      const sentUs = Math.round(now * 1000);
      for (let s = 0; s < senders.length; s++) {
        const client = senders[s]!;
        const target = Math.floor(until * perSender + phase[s]!);
        while (made[s]! < target) {
          made[s]! += 1;
          const n = this.nextN++;
          const p: Pending = { n, clientMsgId: `g${n}`, text: makeText(n, sentUs, textBytes), lastSentAt: NaN };
          client.outbox!.set(p.clientMsgId, p);
          if (client.ready && client.ws !== undefined) this.write(client, client.ws, p, now);
          if (this.req!.protocol === 'socketio' && client.ready) client.outbox!.delete(p.clientMsgId);
        }
        // A server that stays silent about a message (no ack in 3 s on an open socket) gets it again.
        if (client.ready && client.ws !== undefined && this.req!.protocol === 'v1') {
          for (const p of client.outbox!.values()) {
            if (now - p.lastSentAt < 3000) break;
            this.write(client, client.ws, p, now);
            this.resends += 1;
          }
        }
      }
    }, 2);
  }

  /** The harness is about to stop the first instance: recovery is timed from here. */
  mark(): void {
    this.markAt = performance.now();
    this.attempts = this.failedAttempts = this.hasNewer = this.pages = 0;
    for (const c of this.clients) {
      // A client still reconnecting from an earlier drop counts as dropped now.
      c.droppedAt = c.ready ? NaN : this.markAt;
      c.recoveredAt = NaN;
      c.recovered = undefined;
    }
  }

  private recoveryStatus(): DeployWaitResult {
    let recovered = 0;
    let recoveredFalse = 0;
    let neverDropped = 0;
    let last = 0;
    let lastDrop = 0;
    const outages: number[] = [];
    for (const c of this.clients) {
      if (Number.isNaN(c.droppedAt)) neverDropped += 1;
      else lastDrop = Math.max(lastDrop, c.droppedAt - this.markAt);
      if (c.recovered === false) recoveredFalse += 1;
      if (!Number.isNaN(c.recoveredAt) && c.recovered !== false) {
        recovered += 1;
        last = Math.max(last, c.recoveredAt - this.markAt);
        outages.push(c.recoveredAt - c.droppedAt);
      }
    }
    outages.sort((a, b) => a - b);
    return {
      allRecovered: recovered === this.clients.length,
      clients: this.clients.length,
      recoveredClients: recovered,
      recoveredFalse,
      neverDropped,
      lastRecoveredMs: last,
      lastDroppedMs: lastDrop,
      outageMs: { p50: quantile(outages, 0.5), p99: quantile(outages, 0.99), max: outages.at(-1) ?? NaN },
      attempts: this.attempts,
      failedAttempts: this.failedAttempts,
      hasNewer: this.hasNewer,
      pages: this.pages,
    };
  }

  /** Resolves once every client has recovered after the mark, or at the timeout. */
  async waitRecovered(timeoutMs: number): Promise<DeployWaitResult> {
    const deadline = performance.now() + timeoutMs;
    let status = this.recoveryStatus();
    while (!status.allRecovered && performance.now() < deadline) {
      await sleep(25);
      status = this.recoveryStatus();
    }
    return status;
  }

  /** Stops sending, waits for the acks and deliveries in flight, and compares. */
  async finish(drainMs: number): Promise<DeployFinishResult> {
    clearInterval(this.sendTimer);
    this.sendTimer = undefined;
    const started = performance.now();
    const acked = () => this.senders.every((s) => s.outbox!.size === 0);
    const complete = () =>
      acked() && this.rooms.every((room) => room.clients.every((c) => c.received.size >= room.acked.size));
    const receivedNow = () => this.clients.reduce((n, c) => n + c.received.size, 0);
    // Until everything acked has arrived, or nothing more came for 2 s once every send was acked
    // (what is missing then is lost: a system without recovery never sends it).
    let seen = receivedNow();
    let lastProgress = performance.now();
    while (!complete() && performance.now() - started < drainMs) {
      await sleep(25);
      const now = receivedNow();
      if (now !== seen || !acked()) {
        seen = now;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > 2000) break;
    }
    const waited = performance.now() - started;
    let ackedCount = 0;
    let expected = 0;
    let delivered = 0;
    let missed = 0;
    let clientsMissing = 0;
    let duplicates = 0;
    let unackedReceived = 0;
    for (const room of this.rooms) {
      ackedCount += room.acked.size;
      for (const c of room.clients) {
        expected += room.acked.size;
        let missing = 0;
        for (const n of room.acked) if (!c.received.has(n)) missing += 1;
        for (const n of c.received) if (!room.acked.has(n)) unackedReceived += 1;
        delivered += room.acked.size - missing;
        missed += missing;
        if (missing > 0) clientsMissing += 1;
        duplicates += c.duplicates;
      }
    }
    const unacked = this.senders.reduce((n, s) => n + s.outbox!.size, 0);
    const result: DeployFinishResult = {
      sent: this.nextN - 1,
      acked: ackedCount,
      unacked,
      resends: this.resends,
      expected,
      delivered,
      missed,
      clientsMissing,
      duplicates,
      unackedReceived,
      errors: this.errors,
      ...(this.firstError === undefined ? {} : { firstError: this.firstError }),
      drainMs: waited,
    };
    await this.close();
    return result;
  }

  async close(): Promise<void> {
    this.closing = true;
    clearInterval(this.sendTimer);
    this.sendTimer = undefined;
    const sockets: WebSocket[] = [];
    for (const c of this.clients) {
      clearTimeout(c.retry);
      if (c.ws !== undefined) sockets.push(c.ws);
    }
    this.clients = [];
    this.rooms = [];
    this.senders = [];
    const closed = sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
          try {
            ws.close(1000);
          } catch {
            ws.terminate();
          }
        }),
    );
    await Promise.race([Promise.all(closed), sleep(3000).then(() => sockets.forEach((ws) => ws.terminate()))]);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
