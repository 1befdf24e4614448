-- register_cron: create or change a recurring schedule; the old spec's due slots follow its
-- misfire policy (the caller computed which to fire from the state it read).
-- KEYS[1] cron (hash)  KEYS[2] cron next (zset)  KEYS[3] cron version (hash)
-- KEYS[4] tasks  KEYS[5] due  KEYS[6] cron unreadable (hash)
-- ARGV[1] schedule name  ARGV[2] spec JSON (canonical: sorted keys)  ARGV[3] first slot ms
-- ARGV[4] the version the caller read ('0' when none is stored)
-- ARGV[5] the next slot ms the caller read ('' when the schedule had none)
-- ARGV[6] wake channel  ARGV[7] n = how many of the old spec's slots to fire
-- ARGV[8 + 3i], ARGV[9 + 3i], ARGV[10 + 3i] for i < n: task id, due ms, encoded record
-- Returns: RESULT.OK = created or changed: version bumped, next slot set to ARGV[3], the n
--   old slots fired (a task id that exists already is left alone);
--   RESULT.REFUSED = nothing written: the same spec is registered already (its next slot is
--   kept, so several processes registering one schedule do not move it), or the version or
--   next slot is no longer what the caller read (it reads again and retries).
--   Either way a spec of this name set aside as unreadable (quarantine_cron) is dropped.
-- Atomic: the comparisons, the old slots' tasks, the spec, version and next slot.
-- @include "record"
-- @include "results"
local cron, nxt, ver, tasks, due = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local name = ARGV[1]
redis.call('HDEL', KEYS[6], name)
if redis.call('HGET', cron, name) == ARGV[2] then return RESULT.REFUSED end
if (redis.call('HGET', ver, name) or '0') ~= ARGV[4] then return RESULT.REFUSED end
local seen = redis.call('ZSCORE', nxt, name)
if ARGV[5] == '' then
  if seen then return RESULT.REFUSED end
elseif not seen or tonumber(seen) ~= tonumber(ARGV[5]) then
  return RESULT.REFUSED
end
for i = 0, tonumber(ARGV[7]) - 1 do
  local id, at, rec = ARGV[8 + 3 * i], tonumber(ARGV[9 + 3 * i]), ARGV[10 + 3 * i]
  if redis.call('HSETNX', tasks, id, rec) == 1 then
    redis.call('ZADD', due, at, id)
    publish_if_head(due, ARGV[6], at)
  end
end
redis.call('HSET', cron, name, ARGV[2])
redis.call('HSET', ver, name, string.format('%d', tonumber(ARGV[4]) + 1))
redis.call('ZADD', nxt, tonumber(ARGV[3]), name)
return RESULT.OK
