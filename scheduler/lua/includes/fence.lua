-- Fencing, pasted by the loader where a script says: -- @include "fence"
-- holds: the caller's lease is still the current one: the task runs, under the caller's
-- token. Every state change a lease holder asks for (ack, fail, renew, release) checks it.
-- Tokens come from the namespace's fence counter (claim.lua), so a token is never issued
-- twice, not even to a task that was retried from the dead letters or deleted and created
-- again. Token 0 (a record from before tokens, or never claimed) is held by nobody.
local function holds(r, token)
  -- r is false (HGET found nothing: Redis lost it, or it expired) or nil (unreadable).
  if not r then return false end
  return r.st == 'R' and r.tok > 0 and r.tok == token
end

-- settled: the holder of `token` already ended its lease as `status`: its call landed, the
-- reply was lost, and its client sent the call again. Only an ack ('D') or a fail that
-- retries ('Y') can leave a record so, and tokens are never issued twice, so no other
-- caller can match.
local function settled(r, token, status)
  if not r then return false end
  return r.st == status and r.tok > 0 and r.tok == token
end
