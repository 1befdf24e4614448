-- ack: mark finished tasks done, if their lease is still held; trim old records.
-- KEYS[1] tasks  KEYS[2] leases  KEYS[3] done  KEYS[4] errors  KEYS[5] dead
-- ARGV[1] now ms ('' = Redis TIME)  ARGV[2] done retention ms  ARGV[3] dead retention ms
-- ARGV[4] trim limit  ARGV[5..] pairs of task id, token
-- Returns: one code per pair: RESULT.OK = acknowledged (now, or by this same call sent
--   before: a re-sent ack whose first send landed is answered as done), RESULT.REFUSED = the
--   caller no longer holds the lease (taken over, the task was cancelled, or the record is
--   gone or unreadable).
-- Atomic: the fence check and the move to done. The trim removes at most `trim limit`
--   expired records of each kind per call, so finished records expire without a scan.
-- Runs when Redis is full (allow-oom, write_first): acks let a full Redis drain.
-- @flags allow-oom
-- @include "record"
-- @include "fence"
-- @include "chunks"
-- @include "retention"
-- @include "results"
local tasks, leases, done, errors, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
write_first(leases)
local now = now_ms(ARGV[1])
local out = {}
for i = 5, #ARGV, 2 do
  local id, tok = ARGV[i], tonumber(ARGV[i + 1])
  local v = redis.call('HGET', tasks, id)
  local r = v and parse(v)
  local code = RESULT.REFUSED
  if holds(r, tok) then
    r.st = 'D'
    r.body = ''
    redis.call('HSET', tasks, id, encode(r))
    redis.call('ZREM', leases, id)
    redis.call('ZADD', done, now, id)
    code = RESULT.OK
  elseif settled(r, tok, 'D') then
    code = RESULT.OK
  end
  out[#out + 1] = code
end

local limit = tonumber(ARGV[4])
trim(tasks, errors, done, now, tonumber(ARGV[2]), limit)
trim(tasks, errors, dead, now, tonumber(ARGV[3]), limit)
return out
