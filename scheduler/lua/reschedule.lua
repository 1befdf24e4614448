-- reschedule: move a task that has not started yet to a new due time.
-- KEYS[1] tasks  KEYS[2] due
-- ARGV[1] wake channel  ARGV[2] task id  ARGV[3] new due ms
-- Returns: RESULT.OK = moved, RESULT.REFUSED = the task is running or finished,
--   RESULT.NOT_FOUND = no such task,
--   RESULT.UNREADABLE = the record does not parse.
--   The due time in the record changes too, and with it the idempotency key.
-- Atomic: the state check and the new score.
-- @include "record"
-- @include "results"
local tasks, due = KEYS[1], KEYS[2]
local id, at = ARGV[2], tonumber(ARGV[3])
local v = redis.call('HGET', tasks, id)
if not v then return RESULT.NOT_FOUND end
local r = parse(v)
if not r then return RESULT.UNREADABLE end
if r.st ~= 'P' and r.st ~= 'Y' then return RESULT.REFUSED end
r.due = ARGV[3]
redis.call('HSET', tasks, id, encode(r))
redis.call('ZADD', due, at, id)
publish_if_head(due, ARGV[1], at)
return RESULT.OK
