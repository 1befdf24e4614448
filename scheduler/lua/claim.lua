-- claim: lease up to `limit` tasks that are due, expired leases first.
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases  KEYS[4] retrying  KEYS[5] dead  KEYS[6] errors
-- KEYS[7] fence (the namespace's token counter; never deleted)
-- KEYS[8] lost (counter of indexed records found missing; never deleted)
-- KEYS[9] claims (zset: claim id -> when its memo expires)
-- KEYS[10] claim memos (hash: claim id -> the ids and tokens that claim leased)
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] lease ms  ARGV[3] limit
-- ARGV[4] claim id (fresh per claim; a re-sent claim repeats it)
-- ARGV[5] the caller's previous claim id, whose reply it has read ('' = none)
-- Returns: {now_ms, next_wake_ms or -1, buried, lost, {unreadable ids}, id1, record1, ...}
--   Each claimed record has status R, its attempt incremented (counted against max_attempts)
--   and a new fencing token: the next value of the fence counter, stored in the record. It is
--   the token that ack, fail, renew and release must present. The attempt is not a token:
--   retry_dead resets it, and a task id deleted and scheduled again starts it over.
--   next_wake_ms is the earliest of the next due time and the next lease expiry.
--   buried counts tasks moved to the dead-letter set because they were out of attempts.
--   lost counts ids of due or leases whose record was gone (evicted, lost in a restart or
--   deleted by hand): each leaves its set, and the lost counter grows by that many.
--   unreadable lists ids whose record does not parse (see parse in record.lua): each went
--   to the dead letters as it is, raw bytes kept, with the reason in errors.
--   A claim that leased tasks keeps a memo of their ids and tokens for one lease time: the
--   same claim sent again (its reply was lost and the client re-sent it) leases nothing new
--   and returns those of its tasks it still holds, with buried and lost 0 and no unreadable
--   ids. The caller's previous memo is dropped (its reply arrived: it is never re-sent), and
--   at most 100 memos past their time (their caller died) per call.
-- Atomic: moving each task from due (or an expired lease) to a fresh lease.
-- Runs when Redis is full (allow-oom, write_first): draining frees memory.
-- Cost: O(log N) per task, N the number of pending tasks.
-- @flags allow-oom
-- @include "record"
-- @include "fence"
-- @include "chunks"
local tasks, due, leases, retrying, dead, errors = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local fence, lost_key, claims, memos = KEYS[7], KEYS[8], KEYS[9], KEYS[10]
local claim_id, previous = ARGV[4], ARGV[5]
write_first(leases)
local now = now_ms(ARGV[1])
local lease_ms = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
local out = {now, -1, 0, 0, {}}

-- The earliest of the next due time and the next lease expiry, or -1.
local function next_wake()
  local head = redis.call('ZRANGE', due, 0, 0, 'WITHSCORES')
  local lhead = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  local at = -1
  if head[2] then at = tonumber(head[2]) end
  if lhead[2] and (at < 0 or tonumber(lhead[2]) < at) then at = tonumber(lhead[2]) end
  return at
end

-- A memo is "<id length>:<id><token>;" per task: ids are any bytes.
local function read_memo(memo)
  local pos, pairs_ = 1, {}
  while pos <= #memo do
    local colon = string.find(memo, ':', pos, true)
    local stop = colon + tonumber(string.sub(memo, pos, colon - 1))
    local semi = string.find(memo, ';', stop + 1, true)
    pairs_[#pairs_ + 1] = {
      string.sub(memo, colon + 1, stop), tonumber(string.sub(memo, stop + 1, semi - 1))}
    pos = semi + 1
  end
  return pairs_
end

local sent_before = redis.call('HGET', memos, claim_id)
if sent_before then
  for _, held in ipairs(read_memo(sent_before)) do
    local v = redis.call('HGET', tasks, held[1])
    if v and holds(parse(v), held[2]) then
      out[#out + 1] = held[1]
      out[#out + 1] = v
    end
  end
  out[2] = next_wake()
  return out
end
local forget = redis.call('ZRANGEBYSCORE', claims, '-inf', now, 'LIMIT', 0, 100)
if previous ~= '' then forget[#forget + 1] = previous end
if #forget > 0 then
  redis.call('HDEL', memos, unpack(forget))
  redis.call('ZREM', claims, unpack(forget))
end
local leased = {}
local claimed = 0
local buried = 0
local lost = 0
local unreadable = {}

local function take(id, r)
  if r.att >= r.max then
    bury(tasks, dead, errors, id, r, now, 'out of attempts: attempt ' .. r.att .. ' of ' .. r.max
      .. ' did not finish (its worker died, lost its connection or shut down)')
    redis.call('ZREM', leases, id)
    buried = buried + 1
    return
  end
  r.st = 'R'
  r.att = r.att + 1
  r.tok = redis.call('INCR', fence)
  local rec = encode(r)
  redis.call('HSET', tasks, id, rec)
  redis.call('ZADD', leases, now + lease_ms, id)
  leased[#leased + 1] = string.format('%d:%s%d;', #id, id, r.tok)
  out[#out + 1] = id
  out[#out + 1] = rec
  claimed = claimed + 1
end

-- The record of an id found in `set` (due or leases), parsed; nil when it is gone or
-- unreadable, after taking the id out of every index (the caller need not).
local function record_of(id, set)
  local v = redis.call('HGET', tasks, id)
  local r = v and parse(v)
  if r then return r end
  redis.call('ZREM', set, id)
  redis.call('SREM', retrying, id)
  if not v then
    lost = lost + 1
  else
    quarantine(dead, errors, id, now, 'unreadable record: its header is not '
      .. '"status|attempt|max_attempts|due_ms|task_type|token" with a known status; '
      .. 'the raw record is kept in the tasks hash')
    unreadable[#unreadable + 1] = id
  end
  return nil
end

-- A lease that expired belongs to a worker that died or was cut off.
local expired = redis.call('ZRANGEBYSCORE', leases, '-inf', now, 'LIMIT', 0, limit)
for _, id in ipairs(expired) do
  local r = record_of(id, leases)
  if r and r.st == 'R' then take(id, r) elseif r then redis.call('ZREM', leases, id) end
end

local room = limit - claimed
if room > 0 then
  local ready = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, room)
  if #ready > 0 then
    for _, part in ipairs(chunks(ready)) do redis.call('ZREM', due, unpack(part)) end
    for _, id in ipairs(ready) do
      local r = record_of(id, due)
      if r and (r.st == 'P' or r.st == 'Y') then
        if r.st == 'Y' then redis.call('SREM', retrying, id) end
        take(id, r)
      end
    end
  end
end

if lost > 0 then redis.call('INCRBY', lost_key, lost) end
if #leased > 0 then
  redis.call('HSET', memos, claim_id, table.concat(leased))
  redis.call('ZADD', claims, now + lease_ms, claim_id)
end
out[2] = next_wake()
out[3] = buried
out[4] = lost
out[5] = unreadable
return out
