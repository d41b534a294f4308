// Every key and channel of one room shares the hash tag `{room}`, so a later move to Redis
// Cluster keeps a room's data on one slot without migrating anything. Room names are word
// characters only, so they can never contain the braces that delimit the tag.
const PREFIX = 'parley:{';
const EVENTS_SUFFIX = '}:events';

/** The pub/sub channel that carries a room's messages between instances. */
export function roomChannel(room: string): string {
  return `${PREFIX}${room}${EVENTS_SUFFIX}`;
}

/** The room a channel belongs to, or undefined for a channel that is not a room's. */
export function roomOfChannel(channel: string): string | undefined {
  if (!channel.startsWith(PREFIX) || !channel.endsWith(EVENTS_SUFFIX)) return undefined;
  return channel.slice(PREFIX.length, channel.length - EVENTS_SUFFIX.length);
}
