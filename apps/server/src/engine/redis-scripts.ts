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
 * The message record is serialised by the server (redis-records.ts); the script stores it as
 * it is (stream field `r`) and publishes it behind a header of plain values.
 *
 * KEYS: log, sent-key (or log again when there is no clientMsgId), seq, trimmed
 * ARGV: message record JSON, history length, room TTL ms, channel,
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
local id = redis.call('XADD', KEYS[1], 'MAXLEN', ARGV[2], '*', 'r', ARGV[1], 's', seq)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
if excess <= 0 then redis.call('PEXPIRE', KEYS[4], ARGV[3]) end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], id .. '|' .. ARGV[7], 'PX', ARGV[5]) end
redis.call('PUBLISH', ARGV[4], 'v1 message ' .. id .. ' ' .. seq .. ' -\\n' .. ARGV[1])
return {id, 0}
`;

// Drops presence entries whose instance stopped refreshing them, publishing `leave` for people
// with no entry left (the person's JSON as the server stored it, behind a plain header; see
// redis-records.ts). Shared by the presence scripts below (KEYS: presence, tabs, people;
// ARGV[1] = now ms, ARGV[2] = channel).
const SWEEP = `
local function leave(userId)
  local user = redis.call('HGET', KEYS[3], userId)
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[3], userId)
  if user then
    redis.call('PUBLISH', ARGV[2], 'v1 leave - - ' .. ARGV[1] .. '\\n' .. user)
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
 * ARGV: now, channel, member (`userId|instanceId`), userId, user JSON, expiry ms, room TTL ms,
 *       '1' to return the people present
 * Returns the stored JSON of everyone present (or nothing), for the server to join into a list.
 */
export const ENTER = `${SWEEP}
local added = redis.call('ZADD', KEYS[1], ARGV[6], ARGV[3])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
if added == 1 and redis.call('HINCRBY', KEYS[2], ARGV[4], 1) == 1 then
  redis.call('PUBLISH', ARGV[2], 'v1 join - - ' .. ARGV[1] .. '\\n' .. ARGV[5])
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
if ARGV[8] == '1' then return redis.call('HVALS', KEYS[3]) end
return {}
`;

/**
 * The heartbeat of one instance in one room: pushes back the expiry of each of its entries, in
 * one call per room rather than one per person. Entries that are gone (they expired while the
 * instance could not reach Redis) are returned, for the instance to enter again.
 * KEYS: presence, tabs, people
 * ARGV: now, channel, expiry ms, room TTL ms, member... (`userId|instanceId`)
 */
export const REFRESH = `${SWEEP}
local missing = {}
for i = 5, #ARGV do
  if redis.call('ZSCORE', KEYS[1], ARGV[i]) then
    redis.call('ZADD', KEYS[1], ARGV[3], ARGV[i])
  else
    missing[#missing + 1] = ARGV[i]
  end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return missing
`;

/**
 * End a person's presence on one instance.
 * KEYS: presence, tabs, people
 * ARGV: now, channel, member
 * Returns how many people are still present (0: the room is empty).
 */
export const EXIT = `${SWEEP}
drop(ARGV[3])
return redis.call('HLEN', KEYS[3])
`;
