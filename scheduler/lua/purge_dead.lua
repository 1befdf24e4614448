-- purge_dead: delete dead-lettered tasks for good.
-- KEYS[1] tasks  KEYS[2] dead  KEYS[3] errors
-- ARGV[1] task id, or '' for the oldest ones  ARGV[2] limit (with '')
-- Returns: how many records were deleted. With '', call again until it returns 0.
-- Atomic: each batch; a batch is bounded by the limit.
-- Runs when Redis is full (allow-oom, write_first): purging frees memory.
-- @flags allow-oom
-- @include "record"
-- @include "chunks"
local tasks, dead, errors = KEYS[1], KEYS[2], KEYS[3]
write_first(dead)
local ids
if ARGV[1] ~= '' then
  if not redis.call('ZSCORE', dead, ARGV[1]) then return 0 end
  ids = {ARGV[1]}
else
  ids = redis.call('ZRANGE', dead, 0, tonumber(ARGV[2]) - 1)
end
if #ids == 0 then return 0 end
for _, part in ipairs(chunks(ids)) do
  redis.call('HDEL', tasks, unpack(part))
  redis.call('HDEL', errors, unpack(part))
  redis.call('ZREM', dead, unpack(part))
end
return #ids
