-- quarantine_cron: set aside a recurring schedule whose spec cannot be read, so that it
-- stops being ticked and every other schedule keeps firing.
-- KEYS[1] cron  KEYS[2] cron next  KEYS[3] cron unreadable
-- ARGV[1] schedule name  ARGV[2] the spec as the caller read it  ARGV[3] the reason
-- Returns: RESULT.OK = set aside (the spec moved to cron unreadable as "<reason>\n<spec>"),
--   RESULT.REFUSED = the spec changed or was removed since the caller read it.
-- Atomic: the comparison and the move.
-- @include "results"
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return RESULT.REFUSED end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3] .. '\n' .. ARGV[2])
return RESULT.OK
