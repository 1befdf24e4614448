-- fire_cron: fire one slot of a recurring schedule, at most once across all processes.
-- KEYS[1] cron  KEYS[2] cron next  KEYS[3] tasks  KEYS[4] due  KEYS[5] cron version
-- ARGV[1] schedule name  ARGV[2] the slot ms the caller saw as next  ARGV[3] new next slot ms
-- ARGV[4] wake channel  ARGV[5] task id ('' = fire nothing: the slot is skipped)
-- ARGV[6] due ms  ARGV[7] encoded record
-- ARGV[8] the spec version the caller read with the spec ('0' when none is stored)
-- Returns: RESULT.OK = this call advanced the schedule (and fired, unless skipped),
--   RESULT.REFUSED = nothing written: another process did it first, or the schedule was
--   removed, or its spec changed since the caller read it (the version differs), so a slot
--   and a next slot computed from an old expression are never written.
-- Atomic: compare-and-set on the version and the next slot, and the task creation. The task
--   id is derived from the name and the slot, so even a slot fired twice makes one task.
-- @include "record"
-- @include "results"
local cron, nxt, tasks, due, ver = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local name = ARGV[1]
local seen = redis.call('ZSCORE', nxt, name)
if not seen or tonumber(seen) ~= tonumber(ARGV[2]) then return RESULT.REFUSED end
if redis.call('HEXISTS', cron, name) == 0 then return RESULT.REFUSED end
if (redis.call('HGET', ver, name) or '0') ~= ARGV[8] then return RESULT.REFUSED end
if ARGV[5] ~= '' and redis.call('HSETNX', tasks, ARGV[5], ARGV[7]) == 1 then
  local at = tonumber(ARGV[6])
  redis.call('ZADD', due, at, ARGV[5])
  publish_if_head(due, ARGV[4], at)
end
redis.call('ZADD', nxt, tonumber(ARGV[3]), name)
return RESULT.OK
