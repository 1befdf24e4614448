-- release: hand held tasks back so another worker runs them now (graceful shutdown).
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] wake channel  ARGV[3..] pairs of task id, token
-- Returns: one code per pair: RESULT.OK = handed back, RESULT.REFUSED = the caller no
--   longer holds it. The attempt they started still counts.
-- Atomic: the fence check and the move from lease to due of each task.
-- Runs when Redis is full (allow-oom, write_first): a full Redis must still drain.
-- @flags allow-oom
-- @include "record"
-- @include "fence"
-- @include "results"
local tasks, due, leases = KEYS[1], KEYS[2], KEYS[3]
write_first(leases)
local now = now_ms(ARGV[1])
local out, n = {}, 0
for i = 3, #ARGV, 2 do
  local id, tok = ARGV[i], tonumber(ARGV[i + 1])
  local v = redis.call('HGET', tasks, id)
  local r = v and parse(v)
  if holds(r, tok) then
    r.st = 'P'
    redis.call('HSET', tasks, id, encode(r))
    redis.call('ZREM', leases, id)
    redis.call('ZADD', due, now, id)
    n = n + 1
    out[#out + 1] = RESULT.OK
  else
    out[#out + 1] = RESULT.REFUSED
  end
end
if n > 0 then wake(ARGV[2], string.format('%d', now)) end
return out
