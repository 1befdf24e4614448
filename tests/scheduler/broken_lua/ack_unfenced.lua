-- BROKEN ON PURPOSE (tests only): ack.lua without the attempt fence, so a worker whose
-- lease was taken over can still acknowledge. The model test must catch it.
-- ack: mark finished tasks done, if their lease is still held; trim old records.
-- KEYS[1] tasks  KEYS[2] leases  KEYS[3] done  KEYS[4] errors  KEYS[5] dead
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] done retention ms  ARGV[3] dead retention ms
-- ARGV[4] trim limit  ARGV[5..] pairs of task id, attempt
-- Returns: one integer per pair: 1 = acknowledged, 0 = refused (the lease was taken over,
--   the task was cancelled, or the record is gone): the caller no longer holds it.
-- Atomic: the fence check and the move to done. The trim removes at most `trim limit`
--   expired records of each kind per call, so finished records expire without a scan.
-- @include "record"
local tasks, leases, done, errors, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local now = now_ms(ARGV[1])
local out = {}
for i = 5, #ARGV, 2 do
  local id, att = ARGV[i], tonumber(ARGV[i + 1])
  local v = redis.call('HGET', tasks, id)
  local ok = 0
  if v then
    local r = parse(v)
    if r.st == 'R' then  -- BROKEN: no fence on the attempt
      r.st = 'D'
      r.body = ''
      redis.call('HSET', tasks, id, encode(r))
      redis.call('ZREM', leases, id)
      redis.call('ZADD', done, now, id)
      ok = 1
    end
  end
  out[#out + 1] = ok
end

local limit = tonumber(ARGV[4])
local function trim(zset, retention)
  local old = redis.call('ZRANGEBYSCORE', zset, '-inf', now - retention, 'LIMIT', 0, limit)
  if #old > 0 then
    redis.call('HDEL', tasks, unpack(old))
    redis.call('HDEL', errors, unpack(old))
    redis.call('ZREM', zset, unpack(old))
  end
end
trim(done, tonumber(ARGV[2]))
trim(dead, tonumber(ARGV[3]))
return out
