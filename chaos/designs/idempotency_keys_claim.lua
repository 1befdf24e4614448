-- Claim up to ARGV[1] due tasks of Schedulinator's sorted set, by Redis's clock.
-- KEYS[1]: the schedules sorted set (member = task id, score = due time, whole seconds)
-- ARGV[1]: how many to claim at most (the project takes 5)
-- ARGV[2]: the prefix of a task's payload key (payload key = prefix .. task id)
-- Returns: a flat list {id, score, payload or false, ...} of the claimed tasks.
-- Atomic: reading Redis TIME, the due range and negating each claimed score (the lock:
-- a negative score is below the range's 0, so no executor takes the task again).
local now = tonumber(redis.call('TIME')[1])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], 0, now, 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local claimed = {}
for i = 1, #due, 2 do
  local id, score = due[i], tonumber(due[i + 1])
  redis.call('ZADD', KEYS[1], -score, id)
  table.insert(claimed, id)
  table.insert(claimed, tostring(score))
  table.insert(claimed, redis.call('GET', ARGV[2] .. id))
end
return claimed
