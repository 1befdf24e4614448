-- cancel: stop a task from running (again).
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases  KEYS[4] retrying  KEYS[5] done  KEYS[6] errors
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] task id  ARGV[3] done retention ms
-- ARGV[4] trim limit
-- Returns: RESULT.OK = cancelled, RESULT.REFUSED = already finished (done, dead or
--   cancelled), RESULT.NOT_FOUND = no such task,
--   RESULT.UNREADABLE = the record does not parse (claim moves it to the dead letters).
--   A running handler is not interrupted, but its worker can no longer ack or retry it.
-- Atomic: the state check and the removal from due / leases. A cancel trims at most
--   `trim limit` finished records past their retention.
-- Runs when Redis is full (allow-oom, write_first): cancelling frees memory.
-- @flags allow-oom
-- @include "record"
-- @include "chunks"
-- @include "retention"
-- @include "results"
local tasks, due, leases, retrying, done, errors = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
write_first(leases)
local now = now_ms(ARGV[1])
local id = ARGV[2]
local v = redis.call('HGET', tasks, id)
if not v then return RESULT.NOT_FOUND end
local r = parse(v)
if not r then return RESULT.UNREADABLE end
if r.st ~= 'P' and r.st ~= 'Y' and r.st ~= 'R' then return RESULT.REFUSED end
redis.call('ZREM', due, id)
redis.call('ZREM', leases, id)
redis.call('SREM', retrying, id)
r.st = 'C'
r.body = ''
redis.call('HSET', tasks, id, encode(r))
redis.call('ZADD', done, now, id)
trim(tasks, errors, done, now, tonumber(ARGV[3]), tonumber(ARGV[4]))
return RESULT.OK
