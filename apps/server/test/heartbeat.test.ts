import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { Heartbeat } from '../src/wire/heartbeat.ts';
import { eventually } from './helpers/crowd.ts';

// The heartbeat against real sockets: a ws server whose connections it watches, and clients
// that count the pings they get. Ticks are called by the test (no timer), so what each tick
// does is asserted by counts, not by time.

interface Peer {
  socket: WebSocket;
  pings: number;
  closed: boolean;
}

async function setup(t: import('node:test').TestContext, groups: number) {
  const heartbeat = new Heartbeat(groups);
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  server.on('connection', (socket) => heartbeat.add(socket));
  await once(server, 'listening');
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const peers: Peer[] = [];
  t.after(async () => {
    for (const peer of peers) peer.socket.terminate();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A client; `answers: false` never answers a ping (ws answers them itself otherwise). */
  const connect = async (answers = true): Promise<Peer> => {
    const before = total(heartbeat);
    const socket = new WebSocket(url, { autoPong: answers });
    const peer: Peer = { socket, pings: 0, closed: false };
    socket.on('ping', () => (peer.pings += 1));
    socket.on('close', () => (peer.closed = true));
    await once(socket, 'open');
    peers.push(peer);
    // The server has added it once its group sizes count it.
    await eventually(() => total(heartbeat) === before + 1, 'the server saw the connection', 5000);
    return peer;
  };
  return { heartbeat, connect };
}

function total(heartbeat: Heartbeat): number {
  return heartbeat.groupSizes().reduce((sum, size) => sum + size, 0);
}

/** Waits until the pings a tick sent have arrived: `expected` in all, then a little more for strays. */
async function pingsArrived(peers: Peer[], expected: number): Promise<number> {
  const sum = () => peers.reduce((n, p) => n + p.pings, 0);
  await eventually(() => sum() >= expected, `${expected} pings arrived`, 5000);
  await new Promise((resolve) => setTimeout(resolve, 50));
  return sum();
}

test('each tick pings one group only; after a round every socket was pinged once', async (t) => {
  const { heartbeat, connect } = await setup(t, 3);
  const peers: Peer[] = [];
  for (let i = 0; i < 9; i++) peers.push(await connect());
  assert.deepEqual(heartbeat.groupSizes(), [3, 3, 3], 'connections spread over the groups');

  heartbeat.tick();
  assert.equal(await pingsArrived(peers, 3), 3, 'the first tick pinged one group of three');
  heartbeat.tick();
  assert.equal(await pingsArrived(peers, 6), 6);
  heartbeat.tick();
  assert.equal(await pingsArrived(peers, 9), 9);
  assert.deepEqual(
    peers.map((p) => p.pings),
    Array(9).fill(1),
    'a round of ticks pinged every socket exactly once',
  );

  // The next round: everyone answered, so nobody is cut, and everyone is pinged again.
  for (let i = 0; i < 3; i++) heartbeat.tick();
  assert.equal(await pingsArrived(peers, 18), 18);
  assert.ok(
    peers.every((p) => !p.closed),
    'sockets that answered stay',
  );
});

test('a socket that does not answer, or answers with a pong nobody asked for, is cut at its next turn', async (t) => {
  const { heartbeat, connect } = await setup(t, 2);
  const answering = await connect();
  const silent = await connect(false);
  const faking = await connect(false);
  const another = await connect();
  // Group of each (the smallest group when it connected): 0, 1, 0, 1.
  faking.socket.on('ping', () => faking.socket.pong(Buffer.from('alive')));

  for (let i = 0; i < 2; i++) heartbeat.tick(); // one round: everyone pinged once
  await pingsArrived([answering, silent, faking, another], 4);
  for (let i = 0; i < 2; i++) heartbeat.tick(); // the next round: the two that did not echo are cut
  await eventually(() => silent.closed && faking.closed, 'the two were cut', 5000);
  assert.equal(answering.closed, false);
  assert.equal(another.closed, false);
  await eventually(() => total(heartbeat) === 2, 'closed sockets left their groups', 5000);
});

test('a socket that closes leaves its group, and the next one joins the smallest group', async (t) => {
  const { heartbeat, connect } = await setup(t, 3);
  const peers: Peer[] = [];
  for (let i = 0; i < 6; i++) peers.push(await connect());
  assert.deepEqual(heartbeat.groupSizes(), [2, 2, 2]);
  // Both sockets of group 1 (the 2nd and 5th connected) leave.
  peers[1]!.socket.close();
  peers[4]!.socket.close();
  await eventually(() => heartbeat.groupSizes()[1] === 0, 'group 1 emptied', 5000);
  await connect();
  assert.deepEqual(heartbeat.groupSizes(), [2, 1, 2], 'the newcomer went to the emptied group');
});
