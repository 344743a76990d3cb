-- The tests read JSON with the runtime's own reader (lua/json.c), with
-- Python's NaN and Infinity allowed: the conformance fixtures come from
-- Python's json module.
local strata = require "strata"
local json = {}

function json.decode(text) return strata.json_decode(text, { nan = true }) end

function json.read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return json.decode(text)
end

return json
