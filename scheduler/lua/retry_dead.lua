-- retry_dead: give a dead-lettered task a fresh set of attempts, due now.
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] dead
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] wake channel  ARGV[3] task id
-- Returns: RESULT.OK = requeued, RESULT.REFUSED = the task is not dead, RESULT.NOT_FOUND =
--   no such task, RESULT.UNREADABLE = the record does not parse: repair it by hand, or purge it.
--   The due time in the record is kept, so the idempotency key stays the same. The attempt
--   count starts over; the fencing token does not: the next claim issues a new one, so a
--   holder of an earlier attempt stays fenced out.
-- Atomic: the state check and the move from dead to due.
-- @include "record"
-- @include "results"
local tasks, due, dead = KEYS[1], KEYS[2], KEYS[3]
local now = now_ms(ARGV[1])
local id = ARGV[3]
local v = redis.call('HGET', tasks, id)
if not v then return RESULT.NOT_FOUND end
local r = parse(v)
if not r then return RESULT.UNREADABLE end
if r.st ~= 'X' then return RESULT.REFUSED end
r.st = 'P'
r.att = 0
redis.call('HSET', tasks, id, encode(r))
redis.call('ZREM', dead, id)
redis.call('ZADD', due, now, id)
publish_if_head(due, ARGV[2], now)
return RESULT.OK
