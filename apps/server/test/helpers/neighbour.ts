import assert from 'node:assert/strict';
import { connectV1, sendV1, type TestClient } from './ws-client.ts';

/** The loopback address neighbours connect from: another client, with budgets of its own. */
export const NEIGHBOUR_ADDRESS = '127.0.0.2';

/**
 * Two people in a quiet room, connected from another address than the attacker's, who keep
 * chatting while an attack runs: every message must be acked and reach the other one, in order.
 * Send-to-ack times are kept (printed, not asserted: the machine is shared).
 */
export class Neighbour {
  readonly ackMs: number[] = [];
  private readonly acked: string[] = [];
  private readonly received: string[] = [];
  private running: Promise<void> | undefined;
  private stopped = false;

  private constructor(
    private readonly sender: TestClient,
    private readonly reader: TestClient,
  ) {
    reader.socket.on('message', (data) => {
      const frame = JSON.parse(data.toString());
      if (frame.type === 'message') this.received.push(frame.id);
    });
  }

  static async join(wsUrl: string, room = 'quiet_neighbours'): Promise<Neighbour> {
    const sender = await connectV1(wsUrl, room, { name: 'Nina', localAddress: NEIGHBOUR_ADDRESS });
    const reader = await connectV1(wsUrl, room, { name: 'Ned', localAddress: NEIGHBOUR_ADDRESS });
    return new Neighbour(sender.client, reader.client);
  }

  /** Sends a message every `intervalMs` until {@link stop}. */
  start(intervalMs = 150): void {
    this.running = (async () => {
      for (let i = 0; !this.stopped && i < 10_000; i++) {
        const sentAt = performance.now();
        const reply = await sendV1(this.sender, `neighbour ${i}`, `n${i}`, 10_000);
        assert.equal(reply.type, 'ack', `the neighbour's message ${i} was acked (${reply.code}: ${reply.message})`);
        this.ackMs.push(performance.now() - sentAt);
        this.acked.push(reply.id);
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  /**
   * Stops sending and checks the neighbours were served: at least `minMessages` acked, and
   * every acked message reached the reader, once, in order.
   */
  async stop(minMessages = 5): Promise<void> {
    this.stopped = true;
    await this.running;
    const deadline = Date.now() + 5000;
    while (this.received.length < this.acked.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(
      this.acked.length >= minMessages,
      `the neighbour got ${this.acked.length} messages acked during the attack`,
    );
    assert.deepEqual(this.received, this.acked, 'every acked message reached the other neighbour, once, in order');
    const sorted = [...this.ackMs].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!.toFixed(1);
    console.log(`  neighbour: ${sorted.length} messages, send-to-ack p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`);
    this.sender.close();
    this.reader.close();
  }
}

/** Waits until `check` holds, polling; fails after `timeoutMs`. */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
