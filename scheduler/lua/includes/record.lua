-- Shared helpers, pasted by the loader where a script says: -- @include "record"
-- A record is "status|attempt|max_attempts|due_ms|task_type|token\n<payload>" (see
-- scheduler/record.py). Records written before the token existed end their header at the task
-- type; they parse with token 0, which no caller can hold (see fence.lua).

-- now_ms: ARGV override for tests, else Redis's own clock: one clock for every worker.
local function now_ms(arg)
  if arg and arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local STATUSES = {P = true, R = true, Y = true, D = true, X = true, C = true}

-- The record as a table, or nil when it is unreadable: a header not in the format above or
-- a status letter no version of duetime writes (a restore, a manual edit, another program).
local function parse(v)
  local st, att, mx, due, ty, tok, body =
    string.match(v, '^(%u)|(%d+)|(%d+)|(%d+)|([^|\n]*)|?(%d*)\n(.*)$')
  if not st or not STATUSES[st] then return nil end
  return {st = st, att = tonumber(att), max = tonumber(mx), due = due, type = ty,
    tok = tonumber(tok) or 0, body = body}
end

-- An unreadable record goes to the dead letters as it is: its raw bytes stay in the tasks
-- hash for whoever repairs or purges it, the reason goes to errors.
local function quarantine(dead, errors, id, now, reason)
  redis.call('ZADD', dead, now, id)
  redis.call('HSET', errors, id, reason)
end

-- Redis without script flags (6.2) refuses a script under maxmemory only until its first
-- write, and ZREM is a write that never needs memory: so a script that drains or frees
-- memory calls this first (on Redis 7 its allow-oom flag does the same). zset: any zset key.
local function write_first(zset)
  redis.call('ZREM', zset, '')
end

local function encode(r)
  return r.st .. '|' .. string.format('%d', r.att) .. '|' .. string.format('%d', r.max) .. '|'
    .. r.due .. '|' .. r.type .. '|' .. string.format('%d', r.tok) .. '\n' .. r.body
end

-- A wake-up is a hint (workers also poll): Redis refusing it (an ACL without the channel)
-- must not fail the change that was already written, so it is a pcall.
local function wake(channel, message)
  redis.pcall('PUBLISH', channel, message)
end

-- Wake sleeping workers only when this task is now the earliest one due:
-- a later task cannot change how long anyone sleeps.
local function publish_if_head(due_key, channel, score)
  local head = redis.call('ZRANGE', due_key, 0, 0, 'WITHSCORES')
  if head[2] and tonumber(head[2]) >= score then
    wake(channel, string.format('%d', score))
  end
end

-- A task that is out of attempts goes to the dead-letter set with the reason.
local function bury(tasks, dead, errors, id, r, now, reason)
  r.st = 'X'
  redis.call('HSET', tasks, id, encode(r))
  redis.call('ZADD', dead, now, id)
  redis.call('HSET', errors, id, reason)
end
