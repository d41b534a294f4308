import { ADDRESSES_KEPT_MS, ADDRESSES_PER_PERSON } from './engine.ts';

// Lua scripts run atomically inside Redis. Each touches only the keys of one room (one hash
// tag), so they keep working on Redis Cluster. They never build JSON: records are serialised
// by the server (redis-records.ts) and stored or published as they are.

// The log scripts share these keys, all of one room (see redis-keys.ts):
//   KEYS[1] log, KEYS[2] retry guard (or the log again), KEYS[3] seq, KEYS[4] trimmed,
//   KEYS[5] texts, KEYS[6] edited, KEYS[7] reactions, KEYS[8] moderation, KEYS[9] confirmed
// and these helpers. A message's state (its current text, edit time and reactions) lives beside
// the log, in the three hashes, keyed by the message's id; its log entry holds the record
// (without the text), the room's count `s`, the author's id `a` and, for a reply, the id
// answered `rt`. A change's entry holds its record, `s` and the id of the message changed `t`.
const LOG_HELPERS = `
local function forget_state(id)
  redis.call('HDEL', KEYS[5], id)
  redis.call('HDEL', KEYS[6], id)
  local list = redis.call('HGET', KEYS[7], id)
  if list then
    for emoji in string.gmatch(list, '%S+') do redis.call('HDEL', KEYS[7], id .. ' ' .. emoji) end
    redis.call('HDEL', KEYS[7], id)
  end
end
-- The reactions of a message, one line per emoji: the emoji, a tab, the user ids (space separated).
local function reaction_lines(id)
  local list = redis.call('HGET', KEYS[7], id)
  if not list then return '' end
  local lines = {}
  for emoji in string.gmatch(list, '%S+') do
    lines[#lines + 1] = emoji .. '\\t' .. (redis.call('HGET', KEYS[7], id .. ' ' .. emoji) or '')
  end
  return table.concat(lines, '\\n')
end
-- With REDIS_WAIT_REPLICAS set the server makes this true (redis-engine.ts): the scripts then
-- return the frame they would publish instead of publishing it, and the server publishes it once
-- the replicas confirmed the entry, so no client ever sees an entry a failover can still lose.
local DEFER_PUBLISH = false
local function publish(channel, frame)
  if DEFER_PUBLISH then return frame end
  redis.call('PUBLISH', channel, frame)
  return nil
end
-- The room's moderation state (KEYS[8], a hash): 'owner' (user id), 'mods' (moderator ids,
-- space separated), 'ban:<id>' and 'mute:<id>' (when they end, ms; 0: never), 'addr:<address>'
-- ('<until>|<id>': an address banned with that person), 'who:<id>' (the user JSON of someone
-- banned or muted, to name them when it is lifted), 'in:<id>' (let into an invite-only room;
-- 'admitted' counts them, at most ROOM_ADMITTED_MAX by invite: see ADMIT),
-- and the settings: 'settings' (their JSON, for welcomes), 'slow' (slow mode seconds) and 'ro'
-- ('1': read-only), which the post script checks, and 'io' ('1': invite-only); the owner's
-- webhook, 'hook' and 'hookev' (see SET_WEBHOOK). The rules are room-standing.ts's.
local function now_ms()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
local function holds(untill, now) return type(untill) == 'number' and (untill == 0 or untill > now) end
local function listed(list, id) return string.find(' ' .. list .. ' ', ' ' .. id .. ' ', 1, true) ~= nil end
local function is_moderator(id)
  if redis.call('HGET', KEYS[8], 'owner') == id then return true end
  return listed(redis.call('HGET', KEYS[8], 'mods') or '', id)
end
-- {'', 7, until} when the person (or their address) is banned, {'', 8, until} when muted.
local function kept_out(id, address)
  local now = now_ms()
  local ban = tonumber(redis.call('HGET', KEYS[8], 'ban:' .. id) or '')
  if holds(ban, now) then return {'', 7, tostring(ban)} end
  -- (An address ban never keeps out the room's owner and moderators: they may share it.)
  if address ~= '' and not is_moderator(id) then
    local byAddress = redis.call('HGET', KEYS[8], 'addr:' .. address)
    local untill = byAddress and tonumber(string.match(byAddress, '^(%d+)'))
    if holds(untill, now) then return {'', 7, tostring(untill)} end
  end
  local mute = tonumber(redis.call('HGET', KEYS[8], 'mute:' .. id) or '')
  if holds(mute, now) then return {'', 8, tostring(mute)} end
  return nil
end
-- The frame of an entry already in the log, rebuilt from it and the state hashes (nil when it
-- is gone or its message was deleted since): a resend whose first answer never came (the
-- replicas did not confirm in time, so nothing was published) publishes it then.
local function entry_frame(id)
  local entry = redis.call('XRANGE', KEYS[1], id, id)[1]
  if not entry then return nil end
  local f = {}
  for i = 1, #entry[2], 2 do f[entry[2][i]] = entry[2][i + 1] end
  if f.m then return 'v1 moderation ' .. id .. ' ' .. f.s .. ' -\\n' .. f.r end
  if f.g then return 'v1 settings ' .. id .. ' ' .. f.s .. ' -\\n' .. f.r end
  if f.w then return 'v1 webhook ' .. id .. ' ' .. f.s .. ' -\\n' .. f.r end
  if f.t then
    local op = cjson.decode(f.r).op
    local tail = ''
    if op == 'edit' then tail = redis.call('HGET', KEYS[5], f.t) or '' elseif op ~= 'delete' then tail = reaction_lines(f.t) end
    return 'v1 change ' .. id .. ' ' .. f.s .. ' -\\n' .. f.r .. '\\n' .. tail
  end
  local text = redis.call('HGET', KEYS[5], id)
  if not text then return nil end
  local answered = f.rt and (redis.call('HGET', KEYS[5], f.rt) or '') or ''
  return 'v1 message ' .. id .. ' ' .. f.s .. ' - ' .. #text .. '\\n' .. f.r .. '\\n' .. text .. answered
end
-- A clientMsgId already used: {id, 1} when it carried the same content (hash), {id, 2} when not
-- (with DEFER_PUBLISH, {id, 1, frame}: see entry_frame).
local function earlier_use(hash)
  local earlier = redis.call('GET', KEYS[2])
  if not earlier then return nil end
  local id, h = string.match(earlier, '^([^|]*)|(.*)$')
  if not id then id = earlier elseif h ~= hash then return {id, 2} end
  if DEFER_PUBLISH then
    -- A write (the guard's lifetime again), so that the WAIT behind this script also covers the
    -- entry, whichever connection stored it: then it may be confirmed and published.
    redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[2]))
    return {id, 1, entry_frame(id)}
  end
  return {id, 1}
end
-- Appends an entry, trimming the log to its length first: the newest id trimmed is kept (in the
-- trimmed key) so that a client whose since is exactly that id is known to have missed nothing,
-- and a trimmed message's state goes with it. Returns the new id and the room's count.
local function append(maxlen, ttl, fields)
  local excess = redis.call('XLEN', KEYS[1]) + 1 - maxlen
  if excess > 0 then
    local doomed = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
    for _, entry in ipairs(doomed) do forget_state(entry[1]) end
    redis.call('SET', KEYS[4], doomed[#doomed][1], 'PX', ttl)
  end
  -- With DEFER_PUBLISH, readers see the log only up to the newest entry a replica confirmed
  -- (KEYS[9], see CONFIRM); a log written before that mode starts from its newest entry.
  if DEFER_PUBLISH and redis.call('EXISTS', KEYS[9]) == 0 then
    local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
    redis.call('SET', KEYS[9], newest and newest[1] or '0-0')
  end
  local seq = redis.call('INCR', KEYS[3])
  local id = redis.call('XADD', KEYS[1], 'MAXLEN', maxlen, '*', 's', seq, unpack(fields))
  for _, i in ipairs({1, 3, 5, 6, 7, 8, 9}) do redis.call('PEXPIRE', KEYS[i], ttl) end
  if excess <= 0 then redis.call('PEXPIRE', KEYS[4], ttl) end
  return id, seq
end
`;

/**
 * Append-and-publish a message. The retry check, the append and the publish happen in one step,
 * so the publish order is the id order on every instance and a retried clientMsgId is stored
 * once. The retry guard holds `<id>|<hash of the content>`: a clientMsgId sent again with other
 * content is refused (2) instead of acked for a message it is not. (Guards written before the
 * hash existed hold the id alone and are taken as a match.) A reply must answer a message the
 * log still holds, not deleted (3 otherwise).
 *
 * The record is serialised by the server (redis-records.ts); the script stores it as it is and
 * publishes it behind a header of plain values, followed by the text and, for a reply, the
 * current text of the message answered (the header gives the text's length in bytes).
 *
 * KEYS: see LOG_HELPERS (KEYS[2] is the log again when there is no clientMsgId), then the
 *       author's slow-mode key
 * ARGV: record JSON, history length, room TTL ms, channel, retry TTL ms, '1' when there is a
 *       clientMsgId, content hash, text, author id, id answered ('' for none), author's address
 * Returns {id, 0 stored | 1 duplicate | 2 clientMsgId reused | 3 nothing to reply to}, and with
 * DEFER_PUBLISH the frame to publish (stored or duplicate); {'', 7 banned | 8 muted, until};
 * {'', 10 slow mode, ms to wait}; {'', 11 read-only}.
 */
export const POST_MESSAGE = `${LOG_HELPERS}
if ARGV[6] == '1' then
  local earlier = earlier_use(ARGV[7])
  if earlier then return earlier end
end
local out = kept_out(ARGV[9], ARGV[11])
if out then return out end
-- Read-only rooms and slow mode hold for members (KEYS[10]: the author's slow-mode key).
local slow = tonumber(redis.call('HGET', KEYS[8], 'slow') or '') or 0
local ro = redis.call('HGET', KEYS[8], 'ro') == '1'
local exempt = (slow == 0 and not ro) or is_moderator(ARGV[9])
if not exempt then
  if ro then return {'', 11} end
  local wait = redis.call('PTTL', KEYS[10])
  if wait > 0 then return {'', 10, tostring(wait)} end
end
local answered = ''
local fields = {'r', ARGV[1], 'a', ARGV[9]}
if ARGV[10] ~= '' then
  answered = redis.call('HGET', KEYS[5], ARGV[10])
  if not answered then return {'', 3} end
  fields[#fields + 1] = 'rt'
  fields[#fields + 1] = ARGV[10]
end
local id, seq = append(tonumber(ARGV[2]), ARGV[3], fields)
redis.call('HSET', KEYS[5], id, ARGV[8])
-- Whoever posts first owns the room (a visit alone creates nothing); reference-protocol
-- authors ('anon_' ids, engine.ts ANONYMOUS_ID_PREFIX) have no identity to own it with, and
-- bots ('bot_', the protocol's BOT_ID_PREFIX) are programs, not people.
if string.sub(ARGV[9], 1, 5) ~= 'anon_' and string.sub(ARGV[9], 1, 4) ~= 'bot_' then
  redis.call('HSETNX', KEYS[8], 'owner', ARGV[9])
end
if ARGV[6] == '1' then redis.call('SET', KEYS[2], id .. '|' .. ARGV[7], 'PX', ARGV[5]) end
if not exempt and slow > 0 then redis.call('SET', KEYS[10], '1', 'PX', slow * 1000) end
return {id, 0, publish(ARGV[4], 'v1 message ' .. id .. ' ' .. seq .. ' - ' .. #ARGV[8] .. '\\n' .. ARGV[1] .. '\\n' .. ARGV[8] .. answered)}
`;

/**
 * Checks and applies a change to a message, appends it and publishes the message's new state,
 * in one step (so concurrent changes from several instances end in one state everywhere). The
 * rules are the memory engine's (message-state.ts): edit and delete are the author's, an edit
 * within the window; one reaction per person and emoji; at most so many emoji and reactions.
 * A deletion removes the text, edit time and reactions for good. A change that changes nothing
 * (a second identical reaction) is answered with the newest id of the log and stores nothing.
 *
 * The published frame: the header, the record, then the new text (edit) or reaction lines.
 *
 * KEYS: see LOG_HELPERS
 * ARGV: op, id changed, record JSON, history length, room TTL ms, channel, retry TTL ms,
 *       content hash, user id, edit window ms (0: none), text (edit) or emoji (reactions),
 *       most emoji, most reactions, the user's address
 * Returns {id, 0 stored | 1 duplicate or unchanged | 2 reused | 3 not found | 4 not yours |
 *          5 edit window closed | 6 too many reactions}, and with DEFER_PUBLISH the frame to
 *          publish (stored or duplicate).
 */
export const CHANGE_MESSAGE = `${LOG_HELPERS}
local earlier = earlier_use(ARGV[8])
if earlier then return earlier end
local out = kept_out(ARGV[9], ARGV[14])
if out then return out end
local target = ARGV[2]
-- Messages of releases before this one (text inside the entry) cannot be changed: not found.
if not redis.call('HGET', KEYS[5], target) then return {'', 3} end
local entry = redis.call('XRANGE', KEYS[1], target, target)[1]
if not entry then return {'', 3} end
local author
for i = 1, #entry[2], 2 do if entry[2][i] == 'a' then author = entry[2][i + 1] end end
local op = ARGV[1]
local user = ARGV[9]
local function newest() return redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][1] end
if op == 'edit' and author ~= user then return {'', 4} end
-- Any message may be deleted by the room's owner and moderators, and by the operator (any room).
if op == 'delete' and author ~= user and not is_moderator(user) and user ~= 'operator' then return {'', 4} end
if op == 'edit' and tonumber(ARGV[10]) > 0 then
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  if now - tonumber(string.match(target, '^(%d+)')) > tonumber(ARGV[10]) then return {'', 5} end
end
if op == 'react' or op == 'unreact' then
  local emoji = ARGV[11]
  local list = redis.call('HGET', KEYS[7], target) or ''
  local field = target .. ' ' .. emoji
  local users = redis.call('HGET', KEYS[7], field) or ''
  local has = string.find(' ' .. users .. ' ', ' ' .. user .. ' ', 1, true) ~= nil
  if op == 'react' then
    if has then
      if DEFER_PUBLISH then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end -- a write for the WAIT (see earlier_use)
      return {newest(), 1}
    end
    local total, distinct, known = 0, 0, false
    for e in string.gmatch(list, '%S+') do
      distinct = distinct + 1
      if e == emoji then known = true end
      for _ in string.gmatch(redis.call('HGET', KEYS[7], target .. ' ' .. e) or '', '%S+') do total = total + 1 end
    end
    if total >= tonumber(ARGV[13]) then return {'', 6} end
    if not known then
      if distinct >= tonumber(ARGV[12]) then return {'', 6} end
      redis.call('HSET', KEYS[7], target, list == '' and emoji or (list .. ' ' .. emoji))
    end
    redis.call('HSET', KEYS[7], field, users == '' and user or (users .. ' ' .. user))
  else
    if not has then
      if DEFER_PUBLISH then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
      return {newest(), 1}
    end
    local kept = {}
    for u in string.gmatch(users, '%S+') do if u ~= user then kept[#kept + 1] = u end end
    if #kept > 0 then
      redis.call('HSET', KEYS[7], field, table.concat(kept, ' '))
    else
      redis.call('HDEL', KEYS[7], field)
      local emojis = {}
      for e in string.gmatch(list, '%S+') do if e ~= emoji then emojis[#emojis + 1] = e end end
      if #emojis > 0 then redis.call('HSET', KEYS[7], target, table.concat(emojis, ' ')) else redis.call('HDEL', KEYS[7], target) end
    end
  end
end
local id, seq = append(tonumber(ARGV[4]), ARGV[5], {'r', ARGV[3], 't', target})
local tail = ''
if op == 'edit' then
  redis.call('HSET', KEYS[5], target, ARGV[11])
  redis.call('HSET', KEYS[6], target, string.match(id, '^(%d+)'))
  tail = ARGV[11]
elseif op == 'delete' then
  forget_state(target)
else
  tail = reaction_lines(target)
end
redis.call('SET', KEYS[2], id .. '|' .. ARGV[8], 'PX', ARGV[7])
return {id, 0, publish(ARGV[6], 'v1 change ' .. id .. ' ' .. seq .. ' -\\n' .. ARGV[3] .. '\\n' .. tail)}
`;

/**
 * The room's roles as MODERATE and PURGE read them (after LOG_HELPERS, whose `listed` they use):
 * `role(id)` is -1 for the operator (the protocol's OPERATOR_USER), 0 for the owner, 1 for a
 * moderator, 2 for anyone else, as room-standing.ts ranks them.
 */
const ROOM_ROLES = `
local owner = redis.call('HGET', KEYS[8], 'owner')
local mods = redis.call('HGET', KEYS[8], 'mods') or ''
local function role(id)
  if id == 'operator' then return -1 end
  if owner == id then return 0 end
  if listed(mods, id) then return 1 end
  return 2
end`;

/**
 * Checks and applies a moderation action, appends it to the log and publishes it, in one step
 * (so every instance applies the actions of a room in one order). The rules are
 * room-standing.ts's: owner actions (promote, demote, transfer) are the owner's; the others need
 * a moderator above the person; kick, ban, mute, promote and transfer need the person present
 * (KEYS[10], the room's people). The record is serialised by the server. A ban also bans the
 * addresses kept for the person (KEYS[11], see ENTER), each as 'addr:<address>' with the ban's
 * end and the person's id (an unban lifts them with it).
 *
 * KEYS: see LOG_HELPERS, then the room's people hash, then its addresses hash
 * ARGV: action, moderator id, person id, record JSON, history length, room TTL ms, channel,
 *       retry TTL ms, content hash, until (ms, 0: never), the person's user JSON, most moderators
 * Returns {id, 0 stored | 1 duplicate | 2 clientMsgId reused | 4 forbidden | 9 not present},
 * and with DEFER_PUBLISH the frame to publish (stored or duplicate).
 */
export const MODERATE = `${LOG_HELPERS}
local earlier = earlier_use(ARGV[9])
if earlier then return earlier end
local action, by, target = ARGV[1], ARGV[2], ARGV[3]
${ROOM_ROLES}
local actor, subject = role(by), role(target)
if by == target or target == '*' or subject == -1 then return {'', 4} end
if action == 'promote' or action == 'demote' or action == 'transfer' then
  if actor > 0 or subject == 0 then return {'', 4} end
elseif actor == 2 or actor >= subject then
  return {'', 4}
end
-- (The operator acts on people present or not; a kick still needs someone to kick.)
local needs_presence = {kick = true, ban = true, mute = true, promote = true, transfer = true}
if needs_presence[action] and (actor >= 0 or action == 'kick') and redis.call('HEXISTS', KEYS[10], target) == 0 then
  return {'', 9}
end
local function without(list, id)
  local kept = {}
  for m in string.gmatch(list, '%S+') do if m ~= id then kept[#kept + 1] = m end end
  return table.concat(kept, ' ')
end
if action == 'ban' then
  redis.call('HSET', KEYS[8], 'ban:' .. target, ARGV[10], 'who:' .. target, ARGV[11])
  -- And the addresses the person entered from (KEYS[11], see ENTER), in the same step: whichever
  -- instance has their sockets, or none (it crashed or shut down while their presence is kept).
  for address in string.gmatch(redis.call('HGET', KEYS[11], target) or '', '%S+') do
    redis.call('HSET', KEYS[8], 'addr:' .. address, ARGV[10] .. '|' .. target)
  end
elseif action == 'unban' then
  redis.call('HDEL', KEYS[8], 'ban:' .. target)
  -- A read of the whole hash: bounded, as the hash is (by ROOM_ADMITTED_MAX 'in:' fields,
  -- forgotten when invite-only is turned off, besides the bans, mutes and settings).
  local all = redis.call('HGETALL', KEYS[8])
  for i = 1, #all, 2 do
    if string.sub(all[i], 1, 5) == 'addr:' and string.match(all[i + 1], '|(.*)$') == target then
      redis.call('HDEL', KEYS[8], all[i])
    end
  end
elseif action == 'mute' then
  redis.call('HSET', KEYS[8], 'mute:' .. target, ARGV[10], 'who:' .. target, ARGV[11])
elseif action == 'unmute' then
  redis.call('HDEL', KEYS[8], 'mute:' .. target)
elseif action == 'promote' then
  if subject == 2 then
    local count = 0
    for _ in string.gmatch(mods, '%S+') do count = count + 1 end
    if count >= tonumber(ARGV[12]) then return {'', 4} end
    redis.call('HSET', KEYS[8], 'mods', mods == '' and target or (mods .. ' ' .. target))
  end
elseif action == 'demote' then
  redis.call('HSET', KEYS[8], 'mods', without(mods, target))
elseif action == 'transfer' then
  -- The old owner stays on as a moderator (there may be none when the operator appoints one).
  local kept = without(mods, target)
  if owner then kept = kept == '' and owner or (kept .. ' ' .. owner) end
  redis.call('HSET', KEYS[8], 'mods', kept, 'owner', target)
end
if (action == 'unban' or action == 'unmute') and not redis.call('HGET', KEYS[8], 'ban:' .. target)
    and not redis.call('HGET', KEYS[8], 'mute:' .. target) then
  redis.call('HDEL', KEYS[8], 'who:' .. target)
end
local id, seq = append(tonumber(ARGV[5]), ARGV[6], {'r', ARGV[4], 'm', target})
redis.call('SET', KEYS[2], id .. '|' .. ARGV[9], 'PX', ARGV[8])
return {id, 0, publish(ARGV[7], 'v1 moderation ' .. id .. ' ' .. seq .. ' -\\n' .. ARGV[4])}
`;

/**
 * Deletes a person's recent messages (a purge), in one step: the rules are room-standing.ts's
 * (purgeFrom): a moderator above the person, who need not be present; their messages logged
 * since `now - window`, newest first, not deleted yet (their text is still kept), at most so many.
 * Each is deleted as CHANGE_MESSAGE deletes one (its state goes for good), with a delete entry of
 * its own that is published like one; then one moderation entry says how many went. What it
 * reads is bounded by the window and by the log's length (the COUNT). The records are the
 * server's: a delete's with its id left to fill in (a log id, nothing to escape), and the
 * moderation record, into which the count is spliced once known.
 *
 * KEYS: see LOG_HELPERS
 * ARGV: moderator id, person id, moderation record JSON, delete record JSON up to its id,
 *       history length, room TTL ms, channel, retry TTL ms, content hash, window ms, most messages
 * Returns {id, 0 stored, frames, count} (frames: with DEFER_PUBLISH, every frame to publish, in
 * order; otherwise none), {id, 1 duplicate[, frame]}, {id, 2 clientMsgId reused}, {'', 4 forbidden}.
 */
export const PURGE = `${LOG_HELPERS}
local earlier = earlier_use(ARGV[9])
if earlier then return earlier end
local by, target = ARGV[1], ARGV[2]
${ROOM_ROLES}
local actor, subject = role(by), role(target)
if by == target or actor == 2 or actor >= subject then return {'', 4} end
-- '*': every author (a whole room's purge), the operator's only.
if target == '*' and actor ~= -1 then return {'', 4} end
local maxlen, ttl, most = tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[11])
local from = string.format('%d-0', now_ms() - tonumber(ARGV[10]))
local doomed = {}
for _, entry in ipairs(redis.call('XREVRANGE', KEYS[1], '+', from, 'COUNT', maxlen)) do
  if #doomed >= most then break end
  local author
  for i = 1, #entry[2], 2 do if entry[2][i] == 'a' then author = entry[2][i + 1] end end
  if (author == target or (target == '*' and author)) and redis.call('HEXISTS', KEYS[5], entry[1]) == 1 then
    doomed[#doomed + 1] = entry[1]
  end
end
local frames, count = {}, 0
for _, message in ipairs(doomed) do
  -- (In a full log, each entry appended trims the oldest: a message may have gone with it.)
  if redis.call('HEXISTS', KEYS[5], message) == 1 then
    local record = ARGV[4] .. message .. '"}'
    local id, seq = append(maxlen, ttl, {'r', record, 't', message})
    forget_state(message)
    count = count + 1
    frames[#frames + 1] = publish(ARGV[7], 'v1 change ' .. id .. ' ' .. seq .. ' -\\n' .. record .. '\\n')
  end
end
local record = string.sub(ARGV[3], 1, -2) .. ',"count":' .. count .. '}'
local id, seq = append(maxlen, ttl, {'r', record, 'm', target})
redis.call('SET', KEYS[2], id .. '|' .. ARGV[9], 'PX', ARGV[8])
frames[#frames + 1] = publish(ARGV[7], 'v1 moderation ' .. id .. ' ' .. seq .. ' -\\n' .. record)
return {id, 0, frames, count}
`;

/**
 * Changes a room's settings (its owner's only): stores them beside the log, appends the change
 * to the log and publishes it, in one step. The settings after the change are merged and
 * serialised by the server.
 *
 * KEYS: see LOG_HELPERS, then the room's people
 * ARGV: owner id, record JSON, history length, room TTL ms, channel, retry TTL ms, content
 *       hash, settings JSON, slow mode seconds, '1' when read-only, '1' when invite-only
 * Returns {id, 0 stored | 1 duplicate | 2 clientMsgId reused | 4 not the owner}, and with
 * DEFER_PUBLISH the frame to publish (stored or duplicate).
 */
export const CONFIGURE = `${LOG_HELPERS}
local earlier = earlier_use(ARGV[7])
if earlier then return earlier end
if redis.call('HGET', KEYS[8], 'owner') ~= ARGV[1] then return {'', 4} end
-- Whoever is here when the room becomes invite-only stays let in ('in:<id>'; KEYS[10]: people;
-- the owner needs not be), counted ('admitted'; past ROOM_ADMITTED_MAX too: they are in
-- already). Turning it off forgets them: the list has no use then (a read of the hash, bounded
-- as ADMIT bounds it).
local was = redis.call('HGET', KEYS[8], 'io') == '1'
if ARGV[11] == '1' and not was then
  local added = 0
  for _, id in ipairs(redis.call('HKEYS', KEYS[10])) do
    if id ~= ARGV[1] then added = added + redis.call('HSETNX', KEYS[8], 'in:' .. id, '1') end
  end
  if added > 0 then redis.call('HINCRBY', KEYS[8], 'admitted', added) end
elseif ARGV[11] ~= '1' and was then
  for _, field in ipairs(redis.call('HKEYS', KEYS[8])) do
    if string.sub(field, 1, 3) == 'in:' then redis.call('HDEL', KEYS[8], field) end
  end
  redis.call('HDEL', KEYS[8], 'admitted')
end
redis.call('HSET', KEYS[8], 'settings', ARGV[8], 'slow', ARGV[9], 'ro', ARGV[10], 'io', ARGV[11])
local id, seq = append(tonumber(ARGV[3]), ARGV[4], {'r', ARGV[2], 'g', '1'})
redis.call('SET', KEYS[2], id .. '|' .. ARGV[7], 'PX', ARGV[6])
return {id, 0, publish(ARGV[5], 'v1 settings ' .. id .. ' ' .. seq .. ' -\\n' .. ARGV[2])}
`;

/**
 * Lets a person into an invite-only room (they presented a valid invite): 'in:<id>' in the
 * room's moderation hash, counted in its 'admitted' field, at most ROOM_ADMITTED_MAX of them
 * (the count is kept, never read from the hash). Someone let in already stays in; a hash that
 * is gone (the room expired) is not made again.
 * KEYS: the room's moderation hash
 * ARGV: user id, the most people let in
 * Returns 1 let in (now or before), 0 refused: the room let in as many as it may.
 */
export const ADMIT = `
if redis.call('HEXISTS', KEYS[1], 'in:' .. ARGV[1]) == 1 then return 1 end
if redis.call('EXISTS', KEYS[1]) == 0 then return 1 end
if tonumber(redis.call('HGET', KEYS[1], 'admitted') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'in:' .. ARGV[1], '1')
redis.call('HINCRBY', KEYS[1], 'admitted', 1)
return 1
`;

/**
 * Sets, changes or removes a room's webhook (its owner's), beside the roles and settings in the
 * room's moderation hash, so that it expires with them: 'hook' (JSON: url, secret, setAt) and
 * 'hookev' (its events, space separated, which welcomes show). When it changed, the change is
 * appended to the log and published, in the same step, like a settings change: its record (the
 * events after it and who, never the URL or secret) is serialised by the server.
 *
 * KEYS: see LOG_HELPERS (KEYS[2] is the log again: no retry guard)
 * ARGV: owner id, 'set' | 'events' | 'clear', hook JSON (set), events (set, events), record
 *       JSON, history length, room TTL ms, channel
 * Returns {id, 0 changed, the frame to publish with DEFER_PUBLISH (else false), the hook JSON now
 * ('' once removed)}; {'', 2 there was none to remove | 3 none to change | 4 forbidden}.
 */
export const SET_WEBHOOK = `${LOG_HELPERS}
if redis.call('HGET', KEYS[8], 'owner') ~= ARGV[1] then return {'', 4} end
local current = redis.call('HGET', KEYS[8], 'hook')
if ARGV[2] == 'clear' then
  if not current then return {'', 2} end
  current = ''
  redis.call('HDEL', KEYS[8], 'hook', 'hookev')
elseif ARGV[2] == 'events' then
  if not current then return {'', 3} end
  redis.call('HSET', KEYS[8], 'hookev', ARGV[4])
else
  current = ARGV[3]
  redis.call('HSET', KEYS[8], 'hook', current, 'hookev', ARGV[4])
end
-- (The append pushes back the expiry of the log and the moderation hash with it.)
local id, seq = append(tonumber(ARGV[6]), ARGV[7], {'r', ARGV[5], 'w', '1'})
return {id, 0, publish(ARGV[8], 'v1 webhook ' .. id .. ' ' .. seq .. ' -\\n' .. ARGV[5]) or false, current}
`;

/**
 * With REDIS_WAIT_REPLICAS: records that a replica has the room's log up to an entry (WAIT said
 * so for the script that wrote it), never moving back. Readers stop there (READ_LOG), so no
 * welcome or read-back shows an entry a failover could still take back; everything before it is
 * replicated too, since a replica receives the primary's writes in order.
 *
 * KEYS: the room's confirmed key; ARGV: entry id, room TTL ms
 */
export const CONFIRM = `
local current = redis.call('GET', KEYS[1])
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am > #bm end
  if am ~= bm then return am > bm end
  if #as ~= #bs then return #as > #bs end
  return as > bs
end
if not current or newer(ARGV[1], current) then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`;

/**
 * Reads up to COUNT log entries from a start (forward: XRANGE; backward: XREVRANGE), each with
 * the state of the message it is about (its own for a message; the one changed for a change):
 * {id, fields, text, edit time, reaction lines, text of the message a reply answers}, each
 * absent (nil) when there is none. One script, so a page never mixes states of two moments.
 *
 * KEYS: log, texts, edited, reactions, confirmed (as KEYS 1, 5, 6, 7, 9 above: the helpers are
 *       not used)
 * ARGV: 'f' or 'b', start, count, '1' to read only up to the confirmed entry (REDIS_WAIT_REPLICAS)
 */
export const READ_LOG = `
local function newer(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am > #bm end
  if am ~= bm then return am > bm end
  if #as ~= #bs then return #as > #bs end
  return as > bs
end
-- ARGV[4] '1': only entries up to the confirmed one (KEYS[5]) are read.
local cap = ARGV[4] == '1' and redis.call('GET', KEYS[5]) or nil
local entries
if ARGV[1] == 'f' then
  entries = redis.call('XRANGE', KEYS[1], ARGV[2], cap or '+', 'COUNT', ARGV[3])
else
  local start = ARGV[2]
  if cap and (start == '+' or newer((string.gsub(start, '^%(', '')), cap)) then start = cap end
  entries = redis.call('XREVRANGE', KEYS[1], start, '-', 'COUNT', ARGV[3])
end
-- The state of every entry's message is read with one HMGET per hash for the whole page, not
-- HGETs per entry: a recovery of a few hundred entries was otherwise a thousand commands.
local function hmget(key, fields)
  local values = {}
  for from = 1, #fields, 500 do
    local part = redis.call('HMGET', key, unpack(fields, from, math.min(from + 499, #fields)))
    for i = 1, #part do values[#values + 1] = part[i] end
  end
  return values
end
local subjects, answers, answered = {}, {}, {}
for k, entry in ipairs(entries) do
  local fields = entry[2]
  subjects[k] = entry[1]
  for i = 1, #fields, 2 do
    if fields[i] == 't' then subjects[k] = fields[i + 1] elseif fields[i] == 'rt' then answered[k] = fields[i + 1] end
  end
  if answered[k] then answers[#answers + 1] = answered[k] end
end
local out = {}
if #entries == 0 then return out end
local texts = hmget(KEYS[2], subjects)
local edits = hmget(KEYS[3], subjects)
local lists = hmget(KEYS[4], subjects)
local answerTexts = hmget(KEYS[2], answers)
-- Who reacted with each emoji: one field per (message, emoji) of the page's reaction lists.
local reactionFields, reactionOf = {}, {}
for k = 1, #entries do
  if lists[k] then
    for emoji in string.gmatch(lists[k], '%S+') do
      reactionFields[#reactionFields + 1] = subjects[k] .. ' ' .. emoji
      reactionOf[#reactionFields] = { k, emoji }
    end
  end
end
local reactors = hmget(KEYS[4], reactionFields)
local lines = {}
for i = 1, #reactionFields do
  local k, emoji = reactionOf[i][1], reactionOf[i][2]
  lines[k] = lines[k] or {}
  lines[k][#lines[k] + 1] = emoji .. '\\t' .. (reactors[i] or '')
end
local nextAnswer = 0
for k, entry in ipairs(entries) do
  local answer = false
  if answered[k] then
    nextAnswer = nextAnswer + 1
    answer = answerTexts[nextAnswer] or false
  end
  out[k] = { entry[1], entry[2], texts[k], edits[k], lines[k] and table.concat(lines[k], '\\n') or false, answer }
end
return out
`;

// Drops presence entries whose instance stopped refreshing them, publishing `leave` for people
// with no entry left (the person's JSON as the server stored it, behind a plain header with the
// number of people still present; see redis-records.ts). Shared by the presence scripts below:
//   KEYS[1] presence, KEYS[2] tabs, KEYS[3] people, KEYS[4] addresses, KEYS[5] gone, KEYS[6] log,
//   KEYS[7] looks
//   ARGV[1] = now ms, ARGV[2] = channel.
// The looks hash (KEYS[7]) counts the people present per look key ('k:<key>'), and remembers
// the keys counted for each person ('u:<userId>'), so that their leave takes back exactly
// those (people an earlier release entered were never counted, and are not taken back); and
// how many keys two or more people share ('shared'), so that listing the people of a room
// without lookalikes (nearly all) looks up nothing per person.
// A person's addresses (the hash KEYS[4]: userId → up to ADDRESSES_PER_PERSON address keys,
// newest last) outlive their presence by ADDRESSES_KEPT_MS (KEYS[5] says since when they are
// gone), so that the operator's ban of someone who just left still keys on where they were; a
// room without a log (nobody ever posted: a visit alone leaves nothing behind) forgets them as
// soon as nobody is left.
const SWEEP = `
-- Each leave the sweep below published (of expired entries, not a script's own exits), as
-- (count after it, user id, stored entry): the presence scripts return them.
local swept = {}
local sweeping = false
local function uncount_looks(userId)
  local counted = redis.call('HGET', KEYS[7], 'u:' .. userId)
  if not counted then return end
  for key in string.gmatch(counted, '%S+') do
    local left = redis.call('HINCRBY', KEYS[7], 'k:' .. key, -1)
    if left == 1 then redis.call('HINCRBY', KEYS[7], 'shared', -1) end
    if left <= 0 then redis.call('HDEL', KEYS[7], 'k:' .. key) end
  end
  redis.call('HDEL', KEYS[7], 'u:' .. userId)
end
local function leave(userId)
  local user = redis.call('HGET', KEYS[3], userId)
  redis.call('HDEL', KEYS[2], userId)
  redis.call('HDEL', KEYS[3], userId)
  uncount_looks(userId)
  local count = redis.call('HLEN', KEYS[3])
  if count == 0 and redis.call('EXISTS', KEYS[6]) == 0 then
    redis.call('DEL', KEYS[4], KEYS[5])
  elseif redis.call('HEXISTS', KEYS[4], userId) == 1 then
    redis.call('ZADD', KEYS[5], ARGV[1], userId)
  end
  if user then
    redis.call('PUBLISH', ARGV[2], 'v1 leave - - ' .. ARGV[1] .. ' ' .. count .. '\\n' .. user)
    if sweeping then
      swept[#swept + 1] = tostring(count)
      swept[#swept + 1] = userId
      swept[#swept + 1] = user
    end
  end
  return user
end
-- True when it published the person's leave.
local function drop(member)
  if redis.call('ZREM', KEYS[1], member) == 1 then
    local userId = string.match(member, '^(.*)|[^|]*$')
    if redis.call('HINCRBY', KEYS[2], userId, -1) <= 0 then return leave(userId) ~= false end
  end
  return false
end
sweeping = true
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do drop(member) end
sweeping = false
-- The addresses of people gone long enough (a bounded number a call: each goes once).
local forgotten = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', tonumber(ARGV[1]) - ${ADDRESSES_KEPT_MS}, 'LIMIT', 0, 100)
for _, userId in ipairs(forgotten) do
  redis.call('HDEL', KEYS[4], userId)
  redis.call('ZREM', KEYS[5], userId)
end
`;

// Member entries go out with the person's role as of now, and `"lookalike":true` when someone
// else present shares one of their look keys, spliced into their JSON: roles change through
// moderation and a room's first post, lookalikes as people come and go, so neither is stored in
// the entries (see withRole in member-entry.ts). A string splice a person (and a few HGETs in a
// room where some look alike); nothing is parsed. member_splicer(moderation hash key, looks
// hash key) reads the roles once and returns as_member(id, entry).
const AS_MEMBER = `
local function member_splicer(moderation, looks)
  local owner = redis.call('HGET', moderation, 'owner')
  local moderators = {}
  for id in string.gmatch(redis.call('HGET', moderation, 'mods') or '', '%S+') do moderators[id] = true end
  -- How many look keys two or more people share: none (nearly every room), no lookups a person.
  -- (A script that counts people in, ENTER, reads it again after each: see the second function.)
  local shared
  local function reread_shared() shared = (tonumber(redis.call('HGET', looks, 'shared')) or 0) > 0 end
  reread_shared()
  local function lookalike(id)
    if not shared then return false end
    for key in string.gmatch(redis.call('HGET', looks, 'u:' .. id) or '', '%S+') do
      if (tonumber(redis.call('HGET', looks, 'k:' .. key)) or 0) >= 2 then return true end
    end
    return false
  end
  return function(id, entry)
    local role = (id == owner and 'owner') or (moderators[id] and 'moderator') or 'member'
    return string.sub(entry, 1, -2) .. ',"role":"' .. role .. '"' .. (lookalike(id) and ',"lookalike":true' or '') .. '}'
  end, reread_shared
end
`;

/**
 * Enter (or refresh) the presence of one or more people on one instance, in one call: in a
 * storm (a deploy reconnecting everyone) the people entering a room together share it, and the
 * roles and the member page are read once for all of them. Each person's member entry (the
 * server computed its tag and look) replaces any earlier one: an entry an earlier release
 * stored, `{id, name}` alone, gains the new fields when its person next enters. The address the
 * person enters from joins their last ADDRESSES_PER_PERSON (KEYS[4], see SWEEP), which a ban
 * (MODERATE) bans with them.
 * KEYS: presence, tabs, people, addresses, gone, log, looks (as SWEEP), the room's moderation
 *       hash (read only: the roles)
 * ARGV: now, channel, expiry ms, room TTL ms, how many people present to list (0: none), then
 *       for each person: member (`userId|instanceId`), userId, member entry JSON, address key
 *       ('' for none), look keys (space separated)
 * Returns how many people are present, a string with one character per person, '1' when it
 * published that person's join (0: they were present already), the leaves its sweep published
 * (see SWEEP_ROOM), then the member JSON of the
 * first ones HSCAN finds from its start (the order member pages walk; see MEMBERS_PAGE), at
 * most that many: a bounded read however large the room, where an HGETALL made every arrival
 * O(people present).
 */
export const ENTER = `${SWEEP}${AS_MEMBER}
local as_member, reread_shared = member_splicer(KEYS[8], KEYS[7])
-- The person's look keys counted (KEYS[7], see SWEEP): those of their new name instead of the
-- old one's when they come back renamed.
-- True when the counts changed.
local function count_looks(id, keys)
  local counted = redis.call('HGET', KEYS[7], 'u:' .. id)
  if counted == keys then return false end
  if counted then uncount_looks(id) end
  if keys == '' then return true end
  for key in string.gmatch(keys, '%S+') do
    if redis.call('HINCRBY', KEYS[7], 'k:' .. key, 1) == 2 then redis.call('HINCRBY', KEYS[7], 'shared', 1) end
  end
  redis.call('HSET', KEYS[7], 'u:' .. id, keys)
  return true
end
local function remember_address(id, address)
  redis.call('ZREM', KEYS[5], id)
  if address == '' then return end
  local kept = {}
  for known in string.gmatch(redis.call('HGET', KEYS[4], id) or '', '%S+') do
    if known ~= address then kept[#kept + 1] = known end
  end
  kept[#kept + 1] = address
  local from = math.max(1, #kept - ${ADDRESSES_PER_PERSON} + 1)
  redis.call('HSET', KEYS[4], id, table.concat(kept, ' ', from))
end
local joined = {}
for i = 6, #ARGV, 5 do
  local member, id, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local added = redis.call('ZADD', KEYS[1], ARGV[3], member)
  redis.call('HSET', KEYS[3], id, entry)
  remember_address(id, ARGV[i + 3])
  if count_looks(id, ARGV[i + 4]) then reread_shared() end
  if added == 1 and redis.call('HINCRBY', KEYS[2], id, 1) == 1 then
    local count = redis.call('HLEN', KEYS[3])
    redis.call('PUBLISH', ARGV[2], 'v1 join - - ' .. ARGV[1] .. ' ' .. count .. '\\n' .. as_member(id, entry))
    joined[#joined + 1] = '1'
  else
    joined[#joined + 1] = '0'
  end
end
for _, i in ipairs({1, 2, 3, 4, 5, 7}) do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
local out = { redis.call('HLEN', KEYS[3]), table.concat(joined), swept }
local limit = tonumber(ARGV[5])
if limit == 0 then return out end
-- HSCAN's COUNT is a hint (a small hash comes whole): scan until there are enough, a few
-- calls at most, and keep the first ones.
local cursor, scans = '0', 0
repeat
  local reply = redis.call('HSCAN', KEYS[3], cursor, 'COUNT', limit)
  cursor, scans = reply[1], scans + 1
  local found = reply[2]
  for i = 1, #found, 2 do
    if #out > limit + 2 then break end
    out[#out + 1] = as_member(found[i], found[i + 1])
  end
until cursor == '0' or #out > limit + 2 or scans == 16
return out
`;

/**
 * A page of the people present: one HSCAN of the people hash from a cursor. HSCAN lists every
 * entry present for a whole walk once (should Redis resize the hash during the walk, some
 * possibly twice: clients merge pages by id); COUNT is a hint, so a page holds
 * about `limit` entries (a hash small enough for Redis's compact encoding comes whole).
 * KEYS: people, the room's moderation hash (read only: the roles), looks (read only)
 * ARGV: cursor ('0': from the start), limit
 * Returns the next cursor ('0': the walk is over), how many people are present, then the
 * member JSON of the page's people, each with their role (and lookalike mark; see AS_MEMBER).
 */
export const MEMBERS_PAGE = `${AS_MEMBER}
local as_member = member_splicer(KEYS[2], KEYS[3])
local reply = redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', ARGV[2])
local out = { reply[1], redis.call('HLEN', KEYS[1]) }
local found = reply[2]
for i = 1, #found, 2 do out[#out + 1] = as_member(found[i], found[i + 1]) end
return out
`;

/**
 * The heartbeat of one instance in one room: pushes back the expiry of each of its entries, in
 * one call per room rather than one per person. Returns the entries that are gone (they expired
 * while the instance could not reach Redis), for the instance to enter again, and the leaves
 * its sweep published (see SWEEP_ROOM).
 * KEYS: presence, tabs, people, addresses, gone, log, looks (as SWEEP)
 * ARGV: now, channel, expiry ms, room TTL ms, member... (`userId|instanceId`)
 */
export const REFRESH = `${SWEEP}
-- One ZMSCORE and one ZADD for the whole chunk rather than two calls a person (a third less
-- of Redis's time; ZMSCORE needs Redis 6.2). unpack takes a few thousand values at most, which
-- REFRESH_CHUNK stays far below.
local members, missing, updates = {}, {}, {}
for i = 5, #ARGV do members[#members + 1] = ARGV[i] end
if #members > 0 then
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(members))
  for i, member in ipairs(members) do
    if scores[i] then
      updates[#updates + 1] = ARGV[3]
      updates[#updates + 1] = member
    else
      missing[#missing + 1] = member
    end
  end
end
if #updates > 0 then redis.call('ZADD', KEYS[1], unpack(updates)) end
for _, i in ipairs({1, 2, 3, 4, 5, 7}) do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return { missing, swept }
`;

/**
 * Sweeps a room no instance confirms as occupied any more (its instance died, or a deploy let
 * its people's presence expire and they did not come back): the expired entries are dropped
 * and each person's leave published, as any presence script does in passing; this one exists
 * for rooms where nobody is left to run another (see RedisEngine.sweepAbandonedRooms).
 * KEYS: presence, tabs, people, addresses, gone, log, looks (as SWEEP)
 * ARGV: now, channel
 * Returns how many people are still present, and for each leave it published the count of
 * people after it, the person's id and their stored entry.
 */
export const SWEEP_ROOM = `${SWEEP}
return { redis.call('HLEN', KEYS[3]), swept }
`;

/**
 * End a person's presence on one instance.
 * KEYS: presence, tabs, people, addresses, gone, log, looks (as SWEEP)
 * ARGV: now, channel, member
 * Returns how many people are still present (0: the room is empty), 1 when it published the
 * person's leave (0: they are still present on another instance), and the leaves its sweep
 * published besides (see SWEEP_ROOM).
 */
export const EXIT = `${SWEEP}
local left = drop(ARGV[3]) and 1 or 0
return { redis.call('HLEN', KEYS[3]), left, swept }
`;
