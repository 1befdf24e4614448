-- peek: read tasks as admin calls show them, also when Redis is full (a MULTI is refused
-- then, even one that only reads).
-- KEYS[1] tasks  KEYS[2] errors  KEYS[3] due
-- ARGV[1..] task ids
-- Returns: per id {record or false, last error or false, due score or false}.
-- Read-only; one consistent snapshot.
-- @flags no-writes
local out = {}
for i, id in ipairs(ARGV) do
  out[i] = {
    redis.call('HGET', KEYS[1], id),
    redis.call('HGET', KEYS[2], id),
    redis.call('ZSCORE', KEYS[3], id),
  }
end
return out
