import { connectV1, postV1 } from './ws-client.ts';

/**
 * Posts `count` messages into a room through a server running with its default limits, spread
 * over several client addresses (127.0.0.10, .11, …) and connections so that no per-address or
 * per-connection allowance is exceeded: 10 connections per address, 10 messages each (within
 * the default bursts). Returns the acked ids.
 */
export async function seedRoom(
  wsUrl: string,
  room: string,
  count: number,
  text: (i: number) => string,
): Promise<string[]> {
  const perConnection = 10;
  const connections = Math.ceil(count / perConnection);
  const ids: string[] = [];
  // Ten connections at a time (one address's worth): each seeder receives the echo of every
  // message sent while it is open, and a hundred open at once would each be sent megabytes,
  // more than a test process starved of CPU reads before the server cuts it off as slow.
  for (let wave = 0; wave < connections; wave += 10) {
    await Promise.all(
      Array.from({ length: Math.min(10, connections - wave) }, async (_, k) => {
        const c = wave + k;
        const localAddress = `127.0.0.${10 + Math.floor(c / 10)}`;
        const { client } = await connectV1(wsUrl, room, { name: `Seeder ${c}`, localAddress });
        for (let i = c * perConnection; i < Math.min(count, (c + 1) * perConnection); i++)
          ids.push(await postV1(client, text(i)));
        client.close();
      }),
    );
  }
  return ids;
}
