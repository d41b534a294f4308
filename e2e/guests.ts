/**
 * Runs in a page of the server's origin (`page.evaluate(openGuests, …)`): opens `count` sockets
 * into `room` as Guest <first>…, each welcomed before the next opens, and keeps them open (in
 * `window.guests`) until the page closes. Guests are people who are there and say nothing.
 * `name`: another name than Guest (e.g. one sorting before theirs in the member list).
 */
export async function openGuests({
  room,
  count,
  first = 1,
  name = 'Guest',
}: {
  room: string;
  count: number;
  first?: number;
  name?: string;
}): Promise<void> {
  const holder = window as unknown as { guests?: WebSocket[] };
  const keep = (holder.guests ??= []);
  for (let i = first; i < first + count; i++) {
    const url = `ws://${location.host}/ws/chat/${encodeURIComponent(room)}/?name=${encodeURIComponent(`${name} ${i}`)}`;
    const socket = new WebSocket(url, ['parley.v1']);
    keep.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.onmessage = (event) => {
        if (String(event.data).startsWith('{"type":"welcome"')) resolve();
      };
      socket.onclose = (event) => reject(new Error(`guest ${i} was refused: ${event.code} ${event.reason}`));
    });
  }
}
