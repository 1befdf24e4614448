-- fire_cron: fire one slot of a recurring schedule, at most once across all processes.
-- KEYS[1] cron  KEYS[2] cron next  KEYS[3] tasks  KEYS[4] due
-- ARGV[1] schedule name  ARGV[2] the slot ms the caller saw as next  ARGV[3] new next slot ms
-- ARGV[4] wake channel  ARGV[5] task id ('' = fire nothing: the slot is skipped)
-- ARGV[6] due ms  ARGV[7] encoded record
-- Returns: RESULT.OK = this call advanced the schedule (and fired, unless skipped),
--   RESULT.REFUSED = another process did it first, or the schedule was removed or changed.
-- Atomic: compare-and-set on the next slot, and the task creation. The task id is derived
--   from the name and the slot, so even a slot fired twice makes one task.
-- @include "record"
-- @include "results"
local cron, nxt, tasks, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local name = ARGV[1]
local seen = redis.call('ZSCORE', nxt, name)
if not seen or tonumber(seen) ~= tonumber(ARGV[2]) then return RESULT.REFUSED end
if redis.call('HEXISTS', cron, name) == 0 then return RESULT.REFUSED end
if ARGV[5] ~= '' and redis.call('HSETNX', tasks, ARGV[5], ARGV[7]) == 1 then
  local at = tonumber(ARGV[6])
  redis.call('ZADD', due, at, ARGV[5])
  publish_if_head(due, ARGV[4], at)
end
redis.call('ZADD', nxt, tonumber(ARGV[3]), name)
return RESULT.OK
