-- stats: one consistent snapshot of the namespace's counts.
-- KEYS[1] due  KEYS[2] leases  KEYS[3] retrying  KEYS[4] dead  KEYS[5] done
-- KEYS[6] lost (claim's counter of indexed records it found missing)
-- ARGV[1] now ms ('' = Redis TIME)
-- Returns: {now_ms, due now, in due set, in flight, retrying, dead, done (kept records),
--   records lost}
-- Read-only.
-- @include "record"
local now = now_ms(ARGV[1])
return {
  now,
  redis.call('ZCOUNT', KEYS[1], '-inf', now),
  redis.call('ZCARD', KEYS[1]),
  redis.call('ZCARD', KEYS[2]),
  redis.call('SCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[5]),
  tonumber(redis.call('GET', KEYS[6]) or 0),
}
