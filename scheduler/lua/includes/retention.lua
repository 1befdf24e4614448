-- Retention, pasted by the loader where a script says: -- @include "retention"
-- (after -- @include "chunks"). Every script that adds to `done` or `dead` trims that set,
-- so a namespace whose tasks only fail or get cancelled stops growing too, not only one
-- that acks.

-- trim: delete at most `limit` records of `zset` (done or dead, scored by when they got
-- there) older than `retention` ms, with their last errors. Bounded work per call.
local function trim(tasks, errors, zset, now, retention, limit)
  local old = redis.call('ZRANGEBYSCORE', zset, '-inf', now - retention, 'LIMIT', 0, limit)
  for _, part in ipairs(chunks(old)) do
    redis.call('HDEL', tasks, unpack(part))
    redis.call('HDEL', errors, unpack(part))
    redis.call('ZREM', zset, unpack(part))
  end
end
