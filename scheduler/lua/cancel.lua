-- cancel: stop a task from running (again).
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases  KEYS[4] retrying  KEYS[5] done
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] task id
-- Returns: 1 = cancelled, 0 = already finished (done, dead or cancelled), -1 = no such task.
--   A running handler is not interrupted, but its worker can no longer ack or retry it.
-- Atomic: the state check and the removal from due / leases.
-- @include "record"
local tasks, due, leases, retrying, done = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms(ARGV[1])
local id = ARGV[2]
local v = redis.call('HGET', tasks, id)
if not v then return -1 end
local r = parse(v)
if r.st ~= 'P' and r.st ~= 'Y' and r.st ~= 'R' then return 0 end
redis.call('ZREM', due, id)
redis.call('ZREM', leases, id)
redis.call('SREM', retrying, id)
r.st = 'C'
r.body = ''
redis.call('HSET', tasks, id, encode(r))
redis.call('ZADD', done, now, id)
return 1
