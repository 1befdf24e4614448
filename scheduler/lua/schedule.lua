-- schedule: create tasks whose id is free (idempotent by task id and due time).
-- KEYS[1] tasks (hash)   KEYS[2] due (zset)   KEYS[3] done (zset)   KEYS[4] errors (hash)
-- ARGV[1] wake channel   ARGV[2] n
-- ARGV[3+3i..5+3i] task id, due ms, encoded record (status P, attempt 0, token 0)
-- Returns: a list of n codes, RESULT.OK = created, RESULT.REFUSED = nothing written: a
--   task with this id is pending, running, waiting for a retry or dead, or finished with
--   this same due time (a producer's retry: it would carry the same idempotency key), or
--   its record cannot be read.
--   A task that finished (done or cancelled: the ones in `done`) gives its id up to a
--   task due at another time: its record and last error are replaced.
-- Atomic: the existence check and the writes of every task in the call. A refused
--   wake-up (ACL) does not fail the call: the tasks are written.
-- @include "record"
-- @include "results"
local tasks, due, done, errors = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
-- A read first: a `due` that is not a sorted set (WRONGTYPE) fails the call before any write.
redis.call('ZRANGE', due, 0, 0)
local n = tonumber(ARGV[2])
local out = {}
local earliest = nil

local function finished_at_another_time(id, at)
  if not redis.call('ZSCORE', done, id) then return false end
  local v = redis.call('HGET', tasks, id)
  local r = v and parse(v)
  return r and tonumber(r.due) ~= at or false
end

for i = 0, n - 1 do
  local id, at, rec = ARGV[3 + 3 * i], tonumber(ARGV[4 + 3 * i]), ARGV[5 + 3 * i]
  local free = redis.call('HSETNX', tasks, id, rec) == 1
  if not free and finished_at_another_time(id, at) then
    -- Left in `done`, the old task's expiry would delete the new record.
    redis.call('ZREM', done, id)
    redis.call('HDEL', errors, id)
    redis.call('HSET', tasks, id, rec)
    free = true
  end
  if free then
    redis.call('ZADD', due, at, id)
    out[#out + 1] = RESULT.OK
    if earliest == nil or at < earliest then earliest = at end
  else
    out[#out + 1] = RESULT.REFUSED
  end
end
if earliest ~= nil then publish_if_head(due, ARGV[1], earliest) end
return out
