-- The Lua side of the strata module: what is easier said in Lua than in C.
-- It receives the module table, made in lua/binding.c, and adds to it.
local strata = ...

-- strata.args(spec): a patch's command line, declared once. The same spec
-- parses `arg` and prints `--help`.
--   spec.usage       "IN OUT"                 (shown after the command name)
--   spec.doc         one paragraph
--   spec.positional  { {"input", "file to read"}, {"output", "file to write", optional = true} }
--   spec.options     { {"n-fft", 2048, "FFT size"}, {"hard", false, "binary masks"} }
-- Returns a table keyed by the positional names and the option names with
-- dashes made underscores. The type of an option's default is its type:
-- numbers are checked, booleans are flags, strings are taken as given, and a
-- table ({}) collects every argument that follows, up to the next option.
local function fail(command, message)
  error(string.format("%s: %s (see %s --help)", command, message, command), 0)
end

function strata.args(spec)
  local argv = _G.arg or {}
  local command = spec.command or ("strata " .. ((argv[0] or "patch"):match("([^/]+)%.lua$") or "patch"))
  local positional, options = spec.positional or {}, spec.options or {}
  local by_name, result = {}, {}
  for _, o in ipairs(options) do
    by_name[o[1]] = o
    result[o[1]:gsub("-", "_")] = o[2]
  end

  local function help()
    local lines = { string.format("usage: %s %s", command, spec.usage or "") }
    if spec.doc then lines[#lines + 1] = "\n" .. spec.doc end
    if #positional > 0 then lines[#lines + 1] = "\narguments:" end
    for _, p in ipairs(positional) do
      lines[#lines + 1] = string.format("  %-18s %s%s", p[1]:upper(), p[2] or "", p.optional and " (optional)" or "")
    end
    lines[#lines + 1] = "\noptions:"
    for _, o in ipairs(options) do
      local kind = type(o[2])
      local dash = #o[1] == 1 and "-" or "--" -- one-letter options take one dash (-o)
      local flag = kind == "boolean" and dash .. o[1] or kind == "table" and string.format("%s%s F...", dash, o[1])
        or string.format("%s%s %s", dash, o[1], kind == "number" and "N" or "S")
      local default = (kind == "boolean" or kind == "table" or o[2] == "") and ""
        or string.format(" (default %s)", tostring(o[2]))
      lines[#lines + 1] = string.format("  %-18s %s%s", flag, o[3] or "", default)
    end
    lines[#lines + 1] = string.format("  %-18s %s", "--help", "show this help")
    print(table.concat(lines, "\n"))
    os.exit(0)
  end

  local n_given, i, rest = 0, 1, false
  while argv[i] ~= nil do
    local a = argv[i]
    if not rest and a == "--" then
      rest = true
    elseif not rest and (a == "--help" or a == "-h") then
      help()
    elseif not rest and (a:match("^%-%-.") or (a:match("^%-%a$") and by_name[a:sub(2)])) then
      local name, value = a:match("^%-%-?([^=]+)=(.*)$")
      name = name or a:gsub("^%-%-?", "")
      local o = by_name[name] or by_name[name:gsub("_", "-")]
      if not o then fail(command, "unknown option --" .. name) end
      local key = o[1]:gsub("-", "_")
      if type(o[2]) == "boolean" then
        if value then fail(command, "--" .. o[1] .. " takes no value") end
        result[key] = true
      elseif type(o[2]) == "table" then
        local list = {}
        if value then list[1] = value end
        while argv[i + 1] ~= nil and not argv[i + 1]:match("^%-%-") do
          i = i + 1
          list[#list + 1] = argv[i]
        end
        if #list == 0 then fail(command, "--" .. o[1] .. " needs at least one value") end
        result[key] = list
      else
        if value == nil then
          i = i + 1
          value = argv[i]
          if value == nil then fail(command, "--" .. o[1] .. " needs a value") end
        end
        if type(o[2]) == "number" then
          local n = tonumber(value)
          if not n then fail(command, string.format("--%s wants a number, not '%s'", o[1], value)) end
          value = n
        end
        result[key] = value
      end
    else
      n_given = n_given + 1
      local p = positional[n_given]
      if not p then fail(command, "unexpected argument '" .. a .. "'") end
      result[p[1]] = a
    end
    i = i + 1
  end
  for k = n_given + 1, #positional do
    if not positional[k].optional then fail(command, "missing " .. positional[k][1]:upper()) end
  end
  return result
end

-- strata.json(value): JSON text for numbers, strings, booleans and tables
-- (arrays when their keys are 1..n; an empty table is {}). Numbers keep 10
-- significant digits; NaN and infinities become null, as JSON has no words
-- for them.
local function encode(v, out)
  local t = type(v)
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then out[#out + 1] = "null"
    elseif math.type(v) == "integer" then out[#out + 1] = tostring(v)
    else out[#out + 1] = string.format("%.10g", v) end
  elseif t == "string" then
    out[#out + 1] = '"' .. v:gsub('[%c"\\]', function(c)
      return string.format("\\u%04x", c:byte())
    end) .. '"'
  elseif t == "boolean" then
    out[#out + 1] = tostring(v)
  elseif t == "table" then
    local n = #v
    local is_array = n > 0 -- an empty table is an empty object
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then is_array = false break end
    end
    if is_array then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = ", " end
        encode(v[i], out)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do keys[#keys + 1] = tostring(k) end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = ", " end
        encode(k, out)
        out[#out + 1] = ": "
        encode(v[k] == nil and v[tonumber(k)] or v[k], out)
      end
      out[#out + 1] = "}"
    end
  else
    out[#out + 1] = "null"
  end
end

function strata.json(value)
  local out = {}
  encode(value, out)
  return table.concat(out)
end

return strata
