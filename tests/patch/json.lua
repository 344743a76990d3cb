-- A small JSON reader for the tests (conformance fixtures): objects, arrays,
-- numbers, strings, booleans, null, and Python's Infinity and NaN.
local json = {}

function json.decode(text)
  local pos = 1
  local function space() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function fail(what) error(string.format("json: %s at byte %d", what, pos), 0) end
  local words = { ["true"] = true, ["false"] = false,
                  ["Infinity"] = math.huge, ["-Infinity"] = -math.huge, ["NaN"] = 0 / 0 }
  function value()
    space()
    local c = text:sub(pos, pos)
    if c == "{" then
      local t = {}
      pos = pos + 1
      space()
      if text:sub(pos, pos) == "}" then pos = pos + 1 return t end
      repeat
        space()
        local k = value()
        space()
        if text:sub(pos, pos) ~= ":" then fail("':' expected") end
        pos = pos + 1
        t[k] = value()
        space()
        c = text:sub(pos, pos)
        pos = pos + 1
      until c ~= ","
      if c ~= "}" then fail("'}' expected") end
      return t
    elseif c == "[" then
      local t = {}
      pos = pos + 1
      space()
      if text:sub(pos, pos) == "]" then pos = pos + 1 return t end
      repeat
        t[#t + 1] = value()
        space()
        c = text:sub(pos, pos)
        pos = pos + 1
      until c ~= ","
      if c ~= "]" then fail("']' expected") end
      return t
    elseif c == '"' then
      local stop = text:find('"', pos + 1, true)
      local s = text:sub(pos + 1, stop - 1)
      pos = stop + 1
      return s
    end
    if text:sub(pos, pos + 3) == "null" then pos = pos + 4 return nil end
    for word, v in pairs(words) do
      if text:sub(pos, pos + #word - 1) == word then pos = pos + #word return v end
    end
    local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
    if not num or num == "" then fail("unexpected character") end
    pos = pos + #num
    return tonumber(num)
  end
  return value()
end

function json.read(path)
  local f = assert(io.open(path))
  local text = f:read("a")
  f:close()
  return json.decode(text)
end

return json
