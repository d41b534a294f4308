// Lua scripts run atomically inside Redis. Each touches only the keys of one room (one hash
// tag), so they keep working on Redis Cluster.

/**
 * Append-and-publish. The retry check, the append and the publish happen in one step, so the
 * publish order is the id order on every instance and a retried clientMsgId is stored once.
 * The retry guard holds `<id>|<hash of the text>`: a clientMsgId sent again with another text is
 * refused (2) instead of acked for a message it is not. (Guards written before the hash existed
 * hold the id alone and are taken as a match.)
 *
 * Before the append trims the log to its length, the newest id it is about to trim is kept (in
 * the `trimmed` key), so that a client whose `since` is exactly that id is known to have missed
 * nothing (the log alone only tells its first retained id).
 *
 * KEYS: log, sent-key (or log again when there is no clientMsgId), seq, trimmed
 * ARGV: body JSON (without id and ts), history length, room TTL ms, channel,
 *       retry TTL ms, '1' when there is a clientMsgId, text hash
 * Returns {id, 0 stored | 1 duplicate | 2 clientMsgId reused with another text}.
 */
export const POST_MESSAGE = `
if ARGV[6] == '1' then
  local earlier = redis.call('GET', KEYS[2])
  if earlier then
    local id, hash = string.match(earlier, '^([^|]*)|(.*)$')
    if not id then return {earlier, 1} end
    if hash ~= ARGV[7] then return {id, 2} end
    return {id, 1}
  end
end
local excess = redis.call('XLEN', KEYS[1]) + 1 - tonumber(ARGV[2])
if excess > 0 then
  local doomed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  redis.call('SET', KEYS[4], doomed[#doomed][1], 'PX', ARGV[3])
end
local seq = redis.call('INCR', KEYS[3])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'b', ARGV[1], 's', seq)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if excess <= 0 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], id .. '|' .. ARGV[7], 'PX', ARGV[5]) end
local ms = string.match(id, '^(%d+)-')
-- The body is a JSON object; splice id and ts in front of its fields.
local frame = '{"type":"message","id":"' .. id .. '","ts":' .. ms .. ',' .. string.sub(ARGV[1], 2)
redis.call('PUBLISH', ARGV[4], '{"kind":"message","seq":' .. seq .. ',"message":' .. frame .. '}')
return {id, 0}
`;

// Drops presence entries whose instance stopped refreshing them, publishing `leave` for people
// with no entry left. Shared by the presence scripts below (KEYS: presence, tabs, people;
// ARGV[1] = now ms, ARGV[2] = channel, ARGV[3] = room JSON).
const SWEEP = `
local function leave(userId)
  local user = redis.call('HGET', KEYS[3], userId)
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[3], userId)
  if user then
    redis.call('PUBLISH', ARGV[2], '{"kind":"leave","room":' .. ARGV[3] .. ',"user":' .. user .. ',"ts":' .. ARGV[1] .. '}')
  end
end
local function drop(member)
  if redis.call('ZREM', KEYS[1], member) == 1 then
    local userId = string.match(member, '^(.*)|[^|]*$')
    if redis.call('HINCRBY', KEYS[2], userId, -1) <= 0 then leave(userId) end
  end
end
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do drop(member) end
`;

/**
 * Enter (or refresh) a person's presence on one instance.
 * KEYS: presence, tabs, people
 * ARGV: now, channel, room JSON, member (`userId|instanceId`), userId, user JSON, expiry ms,
 *       room TTL ms, '1' to return the people present
 * Returns everyone present as one JSON array of the stored user JSON (or '[]').
 */
export const ENTER = `${SWEEP}
local added = redis.call('ZADD', KEYS[1], ARGV[7], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
if added == 1 and redis.call('HINCRBY', KEYS[2], ARGV[5], 1) == 1 then
  redis.call('PUBLISH', ARGV[2], '{"kind":"join","room":' .. ARGV[3] .. ',"user":' .. ARGV[6] .. ',"ts":' .. ARGV[1] .. '}')
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[8]) end
if ARGV[9] == '1' then return '[' .. table.concat(redis.call('HVALS', KEYS[3]), ',') .. ']' end
return '[]'
`;

/**
 * The heartbeat of one instance in one room: pushes back the expiry of each of its entries, in
 * one call per room rather than one per person. Entries that are gone (they expired while the
 * instance could not reach Redis) are returned, for the instance to enter again.
 * KEYS: presence, tabs, people
 * ARGV: now, channel, room JSON, expiry ms, room TTL ms, member... (`userId|instanceId`)
 */
export const REFRESH = `${SWEEP}
local missing = {}
for i = 6, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[4], ARGV[i])
  else
    missing[#missing + 1] = ARGV[i]
  end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return missing
`;

/**
 * End a person's presence on one instance.
 * KEYS: presence, tabs, people
 * ARGV: now, channel, room JSON, member
 * Returns how many people are still present (0: the room is empty).
 */
export const EXIT = `${SWEEP}
drop(ARGV[4])
return redis.call('HLEN', KEYS[3])
`;
