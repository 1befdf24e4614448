-- register_cron: create or update a recurring schedule.
-- KEYS[1] cron (hash)  KEYS[2] cron next (zset)  KEYS[3] cron unreadable (hash)
-- ARGV[1] schedule name  ARGV[2] spec JSON (canonical: sorted keys)  ARGV[3] first slot ms
-- Returns: RESULT.OK = created or changed (next slot set to ARGV[3]), RESULT.REFUSED = the
--   same spec was registered already (its next slot is kept, so several processes registering the same
--   schedule do not move it).
--   Either way a spec of this name set aside as unreadable (quarantine_cron) is dropped.
-- Atomic: the comparison and the update.
-- @include "results"
redis.call('HDEL', KEYS[3], ARGV[1])
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return RESULT.REFUSED end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], tonumber(ARGV[3]), ARGV[1])
return RESULT.OK
