-- Chunks, pasted by the loader where a script says: -- @include "chunks"
-- Lua's unpack() fails past about 8000 values (LUAI_MAXCSTACK), and a list of ids can be
-- that long (a large trim or purge), so a command over such a list goes in slices:
--   for _, part in ipairs(chunks(ids)) do redis.call('ZREM', key, unpack(part)) end
local UNPACK_CHUNK = 1000

local function chunks(ids)
  local parts = {}
  for i = 1, #ids, UNPACK_CHUNK do
    local part = {}
    for j = i, math.min(i + UNPACK_CHUNK - 1, #ids) do part[#part + 1] = ids[j] end
    parts[#parts + 1] = part
  end
  return parts
end
