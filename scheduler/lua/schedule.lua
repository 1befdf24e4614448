-- schedule: create tasks that do not exist yet (idempotent by task id).
-- KEYS[1] tasks (hash)   KEYS[2] due (zset)
-- ARGV[1] wake channel   ARGV[2] n
-- ARGV[3+3i..5+3i] task id, due ms, encoded record (status P, attempt 0, token 0)
-- Returns: a list of n codes, RESULT.OK = created, RESULT.REFUSED = a task with this id
--   already exists.
-- Atomic: the existence check and the writes of every task in the call. A refused
--   wake-up (ACL) does not fail the call: the tasks are written.
-- @include "record"
-- @include "results"
local tasks, due = KEYS[1], KEYS[2]
-- A read first: a `due` that is not a sorted set (WRONGTYPE) fails the call before any write.
redis.call('ZRANGE', due, 0, 0)
local n = tonumber(ARGV[2])
local out = {}
local earliest = nil
for i = 0, n - 1 do
  local id, at, rec = ARGV[3 + 3 * i], tonumber(ARGV[4 + 3 * i]), ARGV[5 + 3 * i]
  if redis.call('HSETNX', tasks, id, rec) == 1 then
    redis.call('ZADD', due, at, id)
    out[#out + 1] = RESULT.OK
    if earliest == nil or at < earliest then earliest = at end
  else
    out[#out + 1] = RESULT.REFUSED
  end
end
if earliest ~= nil then publish_if_head(due, ARGV[1], earliest) end
return out
