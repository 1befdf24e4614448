-- renew: extend the leases a worker still holds.
-- KEYS[1] tasks  KEYS[2] leases
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] lease ms  ARGV[3..] pairs of task id, token
-- Returns: the pairs of task id, token whose lease is no longer the caller's (taken over,
--   cancelled or gone), flat: {id1, token1, id2, token2, ...}. A pair, not an id: one caller
--   may present two tokens of the same task id, only the latest of which can still hold.
-- Atomic: the fence check and the new expiry of each task.
-- Runs when Redis is full (allow-oom, write_first): a full Redis must still drain.
-- @flags allow-oom
-- @include "record"
-- @include "fence"
local tasks, leases = KEYS[1], KEYS[2]
write_first(leases)
local now = now_ms(ARGV[1])
local until_ms = now + tonumber(ARGV[2])
local lost = {}
for i = 3, #ARGV, 2 do
  local id, tok = ARGV[i], tonumber(ARGV[i + 1])
  local v = redis.call('HGET', tasks, id)
  local r = v and parse(v)
  if holds(r, tok) then
    redis.call('ZADD', leases, until_ms, id)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = ARGV[i + 1]
  end
end
return lost
