-- release: hand held tasks back so another worker runs them now (graceful shutdown).
-- KEYS[1] tasks  KEYS[2] due  KEYS[3] leases
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] wake channel  ARGV[3..] pairs of task id, token
-- Returns: one code per pair: RESULT.OK = handed back, RESULT.REFUSED = the caller no
--   longer holds it. A release is not a failure: the attempt the claim counted is given
--   back, so a task running on its last attempt when its worker shuts down runs again
--   instead of going to the dead letters.
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
    r.att = math.max(0, r.att - 1)
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
