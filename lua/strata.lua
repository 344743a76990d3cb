-- The Lua side of the strata module: what is easier said in Lua than in C.
-- It receives the module table, made in lua/binding.c, and adds to it.
local strata = ...

-- strata.args(spec): a patch's command line, declared once. The same spec
-- parses `arg` and prints `--help`.
--   spec.usage       "IN OUT"                 (shown after the command name)
--   spec.doc         one paragraph
--   spec.positional  { {"input", "file to read"}, {"output", "file to write", optional = true} }
--                    the last may say many = true: it takes every remaining argument (a list)
--   spec.options     { {"n-fft", 2048, "FFT size"}, {"hard", false, "binary masks"} }
--                    a number option may say param = "stft.n_fft", the node parameter it
--                    feeds: a value out of the descriptor's range (or not whole, for an
--                    integer) is a bad command line naming the option. Its default and the
--                    values in unset = { 0 } (those the patch reads as "not given") pass.
--   spec.writes      "audio": adds -o/--output DIR, --filename, --format and --subtype,
--                    which strata.output_paths reads
-- Returns a table keyed by the positional names and the option names with
-- dashes made underscores. The type of an option's default is its type:
-- numbers are checked, booleans are flags, strings are taken as given, and a
-- table ({}) collects every argument that follows, up to the next option.
-- A bad command line prints one line naming the command and the option and
-- exits with status 2, as the built-in commands do.
local function fail(command, message)
  io.stderr:write(string.format("%s: %s (see %s --help)\n", command, message, command))
  os.exit(2, true)
end

-- strata.usage_error(command, message): the same, for what a patch checks
-- after strata.args (a missing --ref, a bad combination).
strata.usage_error = fail

-- The options of a command that writes audio files (spec.writes = "audio").
local audio_options = {
  { "o", "", "the folder to write into (made if missing)" },
  { "output", "", "the same as -o" },
  { "filename", "", "file names in the folder: {track} is the input's name without its extension, "
    .. "{stem} the part, {ext} the format (default {stem}.{ext}; {track}/{stem}.{ext} with several inputs)" },
  { "format", "wav", "wav, flac or ogg" },
  { "subtype", "auto", "PCM_16, PCM_24 or FLOAT (auto: FLOAT for wav, PCM_24 for flac)" },
}

function strata.args(spec)
  local argv = _G.arg or {}
  local command = spec.command or ("strata " .. ((argv[0] or "patch"):match("([^/]+)%.lua$") or "patch"))
  local positional, options = spec.positional or {}, spec.options or {}
  if spec.writes == "audio" then
    options = table.move(options, 1, #options, 1, {})
    table.move(audio_options, 1, #audio_options, #options + 1, options)
  end
  local by_name, result = {}, { command = command }
  for _, o in ipairs(options) do
    by_name[o[1]] = o
    result[o[1]:gsub("-", "_")] = o[2]
  end

  local function help()
    -- the usage line names every option: those the patch's usage leaves out are added
    local usage = spec.usage or ""
    for _, o in ipairs(options) do
      local dash = #o[1] == 1 and "-" or "--"
      if not (" " .. usage .. " "):find("[%s%[|]" .. (dash .. o[1]):gsub("%-", "%%-") .. "[%s=%]|]") then
        local kind = type(o[2])
        usage = usage .. string.format(" [%s%s%s]", dash, o[1], kind == "boolean" and "" or kind == "table" and " F..."
          or kind == "number" and " N" or " S")
      end
    end
    local lines = { string.format("usage: %s %s", command, usage) }
    if spec.doc then lines[#lines + 1] = "\n" .. spec.doc end
    if #positional > 0 then lines[#lines + 1] = "\narguments:" end
    for _, p in ipairs(positional) do
      -- optional = "with --demo" says when it may be left out
      local when = type(p.optional) == "string" and " (left out " .. p.optional .. ")" or p.optional and " (optional)" or ""
      lines[#lines + 1] = string.format("  %-18s %s%s", p[1]:upper() .. (p.many and "..." or ""), p[2] or "", when)
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
      local last = positional[#positional]
      if last and last.many and n_given >= #positional - 1 then
        if n_given < #positional then n_given, result[last[1]] = #positional, {} end
        local list = result[last[1]]
        list[#list + 1] = a
      else
        n_given = n_given + 1
        local p = positional[n_given]
        if not p then fail(command, "unexpected argument '" .. a .. "'") end
        result[p[1]] = a
      end
    end
    i = i + 1
  end
  -- number options that feed a node parameter: its descriptor's range, said with the option's name
  for _, o in ipairs(options) do
    if o.param then
      if type(o[2]) ~= "number" then error("strata.args: --" .. o[1] .. " has param but its default is not a number", 2) end
      local node, param = o.param:match("^([%w_]+)%.([%w_]+)$")
      local kind, min, max = strata.param_range(node, param)
      local value, special = result[o[1]:gsub("-", "_")], { o[2], table.unpack(o.unset or {}) }
      local others, given_special = {}, false
      for _, v in ipairs(special) do
        given_special = given_special or value == v
        if (v < min or v > max) and not others[v] then
          others[v], others[#others + 1] = true, string.format("%.10g", v)
        end
      end
      if not given_special and (value < min or value > max or (kind == "integer" and value ~= math.floor(value))) then
        fail(command, string.format("--%s wants a %s from %.10g to %.10g%s, not %.10g", o[1],
          kind == "integer" and "whole number" or "number", min, max,
          #others > 0 and " (or " .. table.concat(others, ", ") .. ")" or "", value))
      end
    end
  end
  for k = n_given + 1, #positional do
    if not positional[k].optional then fail(command, "missing " .. positional[k][1]:upper()) end
  end
  if spec.writes == "audio" then
    local ok = { wav = { auto = 1, PCM_16 = 1, PCM_24 = 1, FLOAT = 1 }, flac = { auto = 1, PCM_16 = 1, PCM_24 = 1 },
                 ogg = { auto = 1 } }
    if not ok[result.format] then fail(command, "--format wants wav, flac or ogg, not '" .. result.format .. "'") end
    if not ok[result.format][result.subtype] then
      local have = {}
      for name in pairs(ok[result.format]) do if name ~= "auto" then have[#have + 1] = name end end
      table.sort(have)
      fail(command, string.format("--subtype %s does not go with --format %s (%s)", result.subtype, result.format,
        #have > 0 and "it takes " .. table.concat(have, ", ") or "it takes no --subtype"))
    end
    result.o = result.o ~= "" and result.o or result.output
    result.output = result.o
  end
  return result
end

-- The path of every stem of every input (paths[i][stem]), as strata.output_paths
-- gives them, without its checks.
local function output_names(opt, inputs, stems)
  local command = opt.command
  if opt.o == "" then fail(command, "missing -o DIR") end
  local template = opt.filename ~= "" and opt.filename or (#inputs > 1 and "{track}/{stem}.{ext}" or "{stem}.{ext}")
  local paths, owner = {}, {}
  for i, input in ipairs(inputs) do
    local track = input:match("([^/]*)$"):gsub("%.[^.]*$", "")
    paths[i] = {}
    for _, stem in ipairs(stems) do
      local base, ext = stem:match("^(.-)%.([^./]+)$")
      base, ext = base or stem, ext or opt.format
      local name = template:gsub("{(%w+)}", function(key)
        if key == "track" then return track elseif key == "stem" then return base
        elseif key == "ext" then return ext end
        fail(command, "--filename: unknown field {" .. key .. "} (have {track}, {stem}, {ext})")
      end)
      local path = opt.o .. "/" .. name
      if owner[path] then
        fail(command, string.format("'%s' and '%s' would both write '%s' (use {track} and {stem} in --filename)",
          owner[path], input, path))
      end
      owner[path], paths[i][stem] = input, path
    end
  end
  return paths
end

-- strata.check_inputs(opt, inputs): every input of a command, before any work,
-- so that a bad last input fails before the first is computed: each is opened
-- and its header and first tenth of a second read (the load node's checks: it exists, is
-- readable, is audio libsndfile reads, holds frames at a sane rate, is not cut
-- short). A pipe (process substitution) can be read only once: it is left to
-- the command. A bad sample deep inside a file is found when the file is read
-- (the command then fails with nothing written: the output set).
function strata.check_inputs(opt, inputs)
  for _, input in ipairs(inputs) do
    if strata.file_kind(input) ~= "pipe" then strata.load { path = input, duration = 0.1 }:compute() end
  end
end

-- strata.output_paths(opt, inputs, stems [, i]): where a command that writes
-- audio (strata.args with writes = "audio") puts each stem of each input:
-- paths[i][stem]. A stem is a name ("harmonic", "loops/loop_01": {ext} is
-- --format) or a file name with its own extension ("layout.json": {stem} is
-- "layout", {ext} "json"). Before any work, it needs -o, refuses two outputs
-- with one name (a second song never silently overwrites the first), checks
-- that every folder it will write in can be made and written
-- (strata.can_write) and checks every input (strata.check_inputs); it makes no folder (strata.write_audio
-- makes a file's folder once its audio is computed, and the folders a failed
-- command made are removed). With i, only input i's paths (paths[i]) are
-- given and its folders made: for commands that learn their stems from the
-- input (unmix's loops) and write other files than audio; the names of every
-- input still decide the template. i = 0 only checks (before any work).
function strata.output_paths(opt, inputs, stems, only)
  local command = opt.command
  local paths = output_names(opt, inputs, stems)
  if not only or only == 0 then
    -- every folder the command will write in can be made and written: said before the work
    local seen, folders = {}, {}
    for _, stem_paths in ipairs(paths) do
      for _, path in pairs(stem_paths) do
        local folder = path:match("^(.*)/[^/]*$")
        if not seen[folder] then seen[folder], folders[#folders + 1] = true, folder end
      end
    end
    table.sort(folders) -- -o DIR before DIR/loops: the message names the first that fails
    for _, folder in ipairs(folders) do
      local ok, why = strata.can_write(folder)
      if not ok then error(command .. ": " .. why, 0) end
    end
    strata.check_inputs(opt, inputs)
  end
  local folders = {}
  if only and only > 0 then
    for _, path in pairs(paths[only]) do folders[#folders + 1] = path:match("^(.*)/[^/]*$") end
  end
  table.sort(folders)
  for _, folder in ipairs(folders) do
    local ok, err = strata.mkdir(folder)
    if not ok then error(command .. ": " .. err, 0) end
  end
  if only then return paths[only] end
  return paths
end

-- strata.check_output(command, path): before any work, that a file the user
-- named (beats -o, compare --csv) can be written where strata.write_file will
-- write it: its folder exists (write_file makes none) and may be written in,
-- and the path is not a folder. A bad one is one line naming the command.
function strata.check_output(command, path)
  local folder = path:match("^(.*)/[^/]*$") or "."
  if folder == "" then folder = "/" end
  local kind = strata.file_kind(folder)
  if kind ~= "folder" then
    error(string.format("%s: cannot write '%s': %s", command, path, kind and string.format("'%s' is not a folder", folder)
      or string.format("the folder '%s' does not exist", folder)), 0)
  end
  if strata.file_kind(path) == "folder" then error(string.format("%s: cannot write '%s': it is a folder", command, path), 0) end
  local ok, why = strata.can_write(folder)
  if not ok then error(command .. ": " .. why, 0) end
end

-- strata.write_audio(opt, handle, path): computes one output of a command
-- that writes audio, makes its folder, saves it in the --subtype asked (the
-- format is the path's extension) and says so ("wrote PATH", silent under
-- --quiet) once the command's files are in place: a command that fails
-- later says it wrote nothing.
function strata.write_audio(opt, handle, path)
  handle:compute() -- the work first: a failure leaves no empty folder
  local folder = path:match("^(.*)/[^/]*$")
  if folder then
    local ok, err = strata.mkdir(folder)
    if not ok then error(opt.command .. ": " .. err, 0) end
  end
  handle:save { path, subtype = opt.subtype }
  strata.note_written("wrote %s", path)
end

-- strata.remove_stale(opt, inputs, stale): at the end of a command that
-- writes numbered stems, once every input has succeeded: for each {i, name,
-- first} of stale (input i's stems name(1) .. name(first - 1) written, name(k)
-- a stem as output_paths takes it, "loops/loop_01"), removes the files of
-- name(first), name(first + 1), ... that an earlier run with more of them
-- left at this run's paths, until one is absent, and says so: a folder holds
-- one run's stems, not a mix of two (a board sums every loop it finds). Only
-- names the command writes are touched, never a file the command reads (its
-- input may be an earlier run's loop), and none when the command fails.
function strata.remove_stale(opt, inputs, stale)
  for _, s in ipairs(stale) do
    local i, name = s[1], s[2]
    for k = s[3], 999 do
      local path = output_names(opt, inputs, { name(k) })[i][name(k)]
      local f = io.open(path, "rb")
      if not f then break end
      f:close()
      if strata.reads(path) then -- this run's own input (a loop of the earlier run, split again)
        strata.note("kept %s: an input of this run", path)
      else
        local ok, err = os.remove(path)
        if not ok then error(opt.command .. ": " .. err, 0) end
        strata.note("removed %s (an earlier run's)", path)
      end
    end
  end
end

-- strata.note(fmt, ...): an info line ("wrote ..."), silent under --quiet.
function strata.note(fmt, ...)
  if not strata.configure({}).quiet then print(string.format(fmt, ...)) end
end

-- strata.note_written(fmt, ...): the same, said once the command's files are
-- in place (at its end: "wrote PATH" of a command that fails later is never
-- said; at once outside an output set).
function strata.note_written(fmt, ...)
  if not strata.configure({}).quiet then strata.say_written(string.format(fmt, ...)) end
end

-- strata.json and strata.json_decode are written in C (lua/json.c);
-- strata.write_file(path, text), strata.mkdir and strata.files in lua/binding.c.

-- strata.transport { bpm = 120, beats_per_bar = 4, quantize = "bar", fade_ms = 20, jack = false }:
-- the bar clock of `strata live` and how a reloaded patch is swapped in
-- (quantize "bar", "beat" or "now"; an equal-power crossfade of fade_ms;
-- jack = true follows JACK transport's tempo, meter and position when it
-- rolls). Fields left out keep their value. Returns the settings; without
-- an argument, only returns them. Other commands keep but do not use them.
local transport = { bpm = 120, beats_per_bar = 4, quantize = "bar", fade_ms = 20, jack = false }
local transport_checks = {
  bpm = function(v) return type(v) == "number" and v >= 1 and v <= 999, "a number from 1 to 999" end,
  beats_per_bar = function(v) return math.type(v) == "integer" and v >= 1 and v <= 64, "an integer from 1 to 64" end,
  quantize = function(v) return v == "bar" or v == "beat" or v == "now", '"bar", "beat" or "now"' end,
  fade_ms = function(v) return type(v) == "number" and v >= 0 and v <= 10000, "a number from 0 to 10000" end,
  jack = function(v) return type(v) == "boolean", "true or false" end,
}
function strata.transport(t)
  if t ~= nil then
    if type(t) ~= "table" then error("strata.transport: wants a table ({ bpm = 120, ... })", 2) end
    for k, v in pairs(t) do
      local check = transport_checks[k]
      if not check then
        error(string.format("strata.transport: no field '%s' (bpm, beats_per_bar, quantize, fade_ms, jack)", tostring(k)), 2)
      end
      local ok, want = check(v)
      if not ok then error(string.format("strata.transport: %s must be %s, not %s", k, want, tostring(v)), 2) end
    end
    for k, v in pairs(t) do transport[k] = v end
    -- the clock stream programs start with (render too)
    strata.configure { bpm = transport.bpm, beats_per_bar = transport.beats_per_bar }
  end
  local copy = {}
  for k, v in pairs(transport) do copy[k] = v end
  return copy
end

return strata
