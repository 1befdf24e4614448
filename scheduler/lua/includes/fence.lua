-- Fencing, pasted by the loader where a script says: -- @include "fence"
-- holds: the caller's lease is still the current one: the task runs, under the caller's
-- token. Every state change a lease holder asks for (ack, fail, renew, release) checks it.
local function holds(r, token)
  return r ~= nil and r.st == 'R' and r.att == token
end
