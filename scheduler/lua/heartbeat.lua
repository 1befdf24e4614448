-- heartbeat: a worker says it is alive (or that it is leaving), and the workers silent
-- for too long are forgotten, so the set stays as small as the workers that run.
-- KEYS[1] workers (ZSET worker name -> time of its last heartbeat, ms)
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] worker name  ARGV[3] forget after ms
-- ARGV[4] '1': the worker is leaving (removed now), '' otherwise
-- Returns: how many workers sent a heartbeat within the last ARGV[3] ms.
-- Atomic: the heartbeat and the forgetting.
-- Runs when Redis is full (allow-oom, on Redis 7): a worker draining a full Redis is alive.
-- @flags allow-oom
-- @include "record"
local workers = KEYS[1]
local now = now_ms(ARGV[1])
local cutoff = now - tonumber(ARGV[3])
if ARGV[4] == '1' then
  redis.call('ZREM', workers, ARGV[2])
else
  redis.call('ZADD', workers, now, ARGV[2])
end
local silent = redis.call('ZRANGEBYSCORE', workers, '-inf', '(' .. cutoff)
for _, name in ipairs(silent) do
  redis.call('ZREM', workers, name)
end
return #redis.call('ZRANGEBYSCORE', workers, cutoff, '+inf')
