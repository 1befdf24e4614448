-- fail: a handler raised. Retry after a delay, or bury the task in the dead-letter set.
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases  KEYS[4] retrying  KEYS[5] dead  KEYS[6] errors
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] wake channel  ARGV[3] task id  ARGV[4] token
-- ARGV[5] error text  ARGV[6] retry delay ms (-1 = bury now, e.g. no handler for the type)
-- ARGV[7] dead retention ms  ARGV[8] trim limit
-- Returns: RESULT.OK = will retry (now, or by this same call sent before: its reply was
--   lost), RESULT.BURIED = dead-lettered, RESULT.REFUSED = the caller no longer holds the
--   lease.
-- Atomic: the fence check, the error record and the move to due or dead. A burial trims at
--   most `trim limit` dead letters past their retention.
-- Runs when Redis is full (allow-oom, write_first): a full Redis must still drain.
-- @flags allow-oom
-- @include "record"
-- @include "fence"
-- @include "chunks"
-- @include "retention"
-- @include "results"
local tasks, due, leases, retrying, dead, errors = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
write_first(leases)
local now = now_ms(ARGV[1])
local id, tok, delay = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[6])
local v = redis.call('HGET', tasks, id)
local r = v and parse(v)
if settled(r, tok, 'Y') then return RESULT.OK end
if not holds(r, tok) then return RESULT.REFUSED end
redis.call('ZREM', leases, id)
if delay >= 0 and r.att < r.max then
  r.st = 'Y'
  redis.call('HSET', tasks, id, encode(r))
  redis.call('HSET', errors, id, ARGV[5])
  redis.call('ZADD', due, now + delay, id)
  redis.call('SADD', retrying, id)
  publish_if_head(due, ARGV[2], now + delay)
  return RESULT.OK
end
bury(tasks, dead, errors, id, r, now, ARGV[5])
trim(tasks, errors, dead, now, tonumber(ARGV[7]), tonumber(ARGV[8]))
return RESULT.BURIED
