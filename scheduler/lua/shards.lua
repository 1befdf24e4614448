-- shards: read, or store on first use, how many shards a namespace has.
-- KEYS[1] the namespace's shard count (string, on its plain tag)
-- KEYS[2] tasks  KEYS[3] cron, of the plain tag: only when storing (ARGV[1] given), to see
--   whether the namespace holds unsharded data
-- ARGV[1] the count the caller asks for ('' = none: only read, with KEYS[1] alone)
-- Returns: the stored count; 0 when none is stored and none was asked for (the caller
--   takes 1). When none is stored and ARGV[1] > 1 but the plain tag holds tasks or
--   schedules, returns 1 and writes nothing: that data was written unsharded.
-- Atomic: the read, the check and the store (SET only when nothing is stored), so two
--   processes naming different counts cannot both store theirs.
local stored = redis.call('GET', KEYS[1])
if stored then return tonumber(stored) end
if ARGV[1] == '' then return 0 end
local wanted = tonumber(ARGV[1])
if wanted > 1 and (redis.call('EXISTS', KEYS[2]) == 1 or redis.call('EXISTS', KEYS[3]) == 1) then
  return 1
end
redis.call('SET', KEYS[1], ARGV[1])
return wanted
