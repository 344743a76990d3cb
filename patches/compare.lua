-- strata compare: separate a mixture with several methods and score each against the true stems
-- usage: strata compare MIX --ref STEM... --methods NAME,NAME [--csv FILE] [--json FILE]
-- Runs each separation method on the mixture and scores it with BSS Eval v3.
local strata = require "strata"

local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local function method_names()
  local names = {}
  for _, file in ipairs(strata.files(here .. "/methods") or {}) do
    local name = file:match("^(.+)%.lua$")
    if name then names[#names + 1] = name end
  end
  return names
end

local opt = strata.args {
  usage = "MIX --ref STEM... --methods NAME,NAME [--csv FILE] [--json FILE]",
  doc = "Separate MIX with each method, match its outputs to the reference stems (the permutation\n" ..
        "with the best mean SIR) and print method x source SDR, SIR and SAR (BSS Eval v3, mono, as\n" ..
        "the corpus protocol says) with the seconds each method took. A method that fails is a row\n" ..
        "saying why; the others go on, and the command exits 1 at the end. What would fail every\n" ..
        "method alike (a reference of another length, silent or repeating another; --csv or --json\n" ..
        "naming an input, or one file) is one line before any method.\n" ..
        "Methods: " .. table.concat(method_names(), ", ") .. " (patches/methods/).",
  positional = { { "mixture", "the mixture" } },
  options = {
    { "ref", {}, "the true stems, one file each; a+b+c sums several into one reference" },
    { "methods", "mixture", "comma-separated method names" },
    { "csv", "", "also write the table as CSV to this file" },
    { "json", "", "also write the results as JSON to this file" },
    { "trim", false, "cut every signal to the shortest" },
  },
}
local command = "strata compare"
if type(opt.ref) ~= "table" or #opt.ref == 0 then strata.usage_error(command, "no --ref stems") end
local known = {}
for _, name in ipairs(method_names()) do known[name] = true end
for name in opt.methods:gmatch("[^,]+") do
  if not known[name] then
    strata.usage_error(command, string.format("no method called '%s' (have: %s)", name, table.concat(method_names(), ", ")))
  end
end

for _, path in ipairs { opt.csv, opt.json } do -- before the methods run, not after them
  if path ~= "" then strata.check_output(command, path) end
end
local mixture = strata.load { path = opt.mixture, channels = "mono" }
-- A reference may be several stems joined by '+': their sum ("drums vs bass+chords+lead").
local refs = {}
for i, spec in ipairs(opt.ref) do
  local parts = {}
  for path in spec:gmatch("[^+]+") do parts[#parts + 1] = strata.load { path = path, channels = "mono" } end
  refs[i] = #parts == 1 and parts[1] or strata.mix(parts)
end
-- --csv and --json are written after every method: a file the command reads, or one file for both
-- (the JSON would replace the CSV), is said now
for _, name in ipairs { "csv", "json" } do
  if opt[name] ~= "" and strata.reads(opt[name]) then
    error(string.format("%s: refusing to overwrite '%s', an input of this patch (--%s)", command, opt[name], name), 0)
  end
end
if opt.csv ~= "" and opt.json ~= "" and strata.same_output(opt.csv, opt.json) then
  error(string.format("%s: --csv '%s' and --json '%s' are one file", command, opt.csv, opt.json), 0)
end

local frames = mixture:eval().frames
for i, r in ipairs(refs) do
  -- unequal lengths fail every method alike: said once, before any
  local n = r:eval().frames
  if n ~= frames and not opt.trim then
    error(string.format("%s: reference %d ('%s') has %d samples, the mixture %d (--trim cuts to the shortest)",
      command, i, opt.ref[i], n, frames), 0)
  end
end
-- So do the references' own faults (a silent one, one repeating another, more than the permutation
-- search takes, another rate): bsseval's checks, run once on the references against themselves (1-tap
-- filters: the checks, not a costly evaluation), said in one line before any method.
local checked, why = pcall(function()
  return strata.bsseval(strata.list(refs), strata.list(refs), { trim = opt.trim, filter_length = 1 }).sdr:eval()
end)
if not checked then
  why = tostring(why):match("^[^\n]*"):gsub("^[^:%s]+%.lua:%d+: ", ""):gsub("trim = true", "--trim")
  why = why:gsub("reference source (%d+)", function(i) return string.format("reference %s ('%s')", i, opt.ref[tonumber(i)]) end)
  why = why:gsub("source (%d+)", function(i) return string.format("reference %s ('%s')", i, opt.ref[tonumber(i)]) end, 1)
  error(string.format("%s: the references: %s", command, why), 0)
end

-- One method: its scores, or an error (raised with a one-line message).
local function score(name)
  local path = here .. "/methods/" .. name .. ".lua"
  local chunk = loadfile(path)
  if not chunk then
    strata.usage_error(command, string.format("no method called '%s' (have: %s)", name, table.concat(method_names(), ", ")))
  end
  local method = chunk()
  local t0 = strata.now()
  local estimates = method.separate(strata, mixture, refs, { mixture = opt.mixture })
  for _, e in ipairs(estimates) do e:compute() end
  local seconds = strata.now() - t0
  if #estimates ~= #refs then
    error(string.format("method %s gave %d estimates for %d references", name, #estimates, #refs), 0)
  end
  local s = strata.bsseval(strata.list(refs), strata.list(estimates), { trim = opt.trim })
  local computed, why = pcall(function() return s.sdr:eval() end) -- the node says trim = true
  if not computed then error((tostring(why):gsub("trim = true", "--trim")), 0) end
  local r = { method = name, seconds = seconds, oracle = method.oracle or false, sources = {} }
  local sdr, sir, sar, perm = s.sdr:samples(), s.sir:samples(), s.sar:samples(), s.permutation:samples()
  local mean = 0
  for i = 1, #refs do
    r.sources[i] = { reference = opt.ref[i]:gsub("[^+]*/", ""), sdr = sdr[i], sir = sir[i], sar = sar[i],
                     estimate = math.tointeger(perm[i]) + 1 }
    mean = mean + sdr[i] / #refs
  end
  r.mean_sdr = mean
  return r
end

-- A method that fails (a missing model, a song too short for it, a budget) does not stop the
-- others: its row says why, the files are written, and the command exits 1 at the end.
local results, failed = {}, {}
for name in opt.methods:gmatch("[^,]+") do
  local t0 = strata.now()
  local ok, r = pcall(score, name)
  if not ok then
    -- one line, without a place in strata's Lua or the method's file (it means nothing to the user)
    local message = tostring(r):match("^[^\n]*"):gsub("^[^:%s]+%.lua:%d+: ", ""):gsub("^" .. command .. ": ", "")
    r = { method = name, seconds = strata.now() - t0, error = message, sources = {} }
    failed[#failed + 1] = name
  end
  results[#results + 1] = r
end

-- columns as wide as their longest entry, so long names keep the table aligned
local method_w, source_w = #"method", #"source"
for _, r in ipairs(results) do
  method_w = math.max(method_w, #r.method)
  for _, s in ipairs(r.sources) do source_w = math.max(source_w, #s.reference) end
end
local row = "%-" .. method_w .. "s %-" .. source_w .. "s"
print(string.format(row .. " %8s %8s %8s %9s", "method", "source", "SDR", "SIR", "SAR", "seconds"))
local csv = { "method,source,sdr,sir,sar,seconds,error" }
for _, r in ipairs(results) do
  for i, s in ipairs(r.sources) do
    print(string.format(row .. " %8.2f %8.2f %8.2f %9s", i == 1 and r.method or "", s.reference, s.sdr, s.sir,
      s.sar, i == 1 and string.format("%.3f", r.seconds) or ""))
    csv[#csv + 1] = string.format("%s,%s,%.4f,%.4f,%.4f,%.4f,", r.method, s.reference, s.sdr, s.sir, s.sar, r.seconds)
  end
  if r.error then
    print(string.format(row .. " failed: %s", r.method, "", r.error))
    csv[#csv + 1] = string.format('%s,,,,,%.4f,"%s"', r.method, r.seconds, r.error:gsub('"', '""'))
  else
    print(string.format(row .. " %8.2f%s", "", "mean", r.mean_sdr, r.oracle and "   (oracle: uses the true stems)" or ""))
  end
end

-- written as every strata output is (strata.write_file: a temporary file beside it, renamed)
local function write(path, text)
  local ok, why = strata.write_file(path, text)
  if not ok then error(string.format("%s: %s", command, why), 0) end
end
if opt.csv ~= "" then write(opt.csv, table.concat(csv, "\n") .. "\n") end
if opt.json ~= "" then
  for _, r in ipairs(results) do if r.error then r.sources = nil end end
  write(opt.json, strata.json(results) .. "\n")
end
if #failed > 0 then
  -- the scores of the methods that ran are kept: the files are moved into place before the exit
  local ok, why = strata.commit()
  if not ok then error(string.format("%s: %s", command, why), 0) end
  io.stderr:write(string.format("%s: %d of %d methods failed (%s); their rows say why\n", command, #failed,
    #results, table.concat(failed, ", ")))
  os.exit(1)
end
