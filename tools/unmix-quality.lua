-- strata run tools/unmix-quality.lua [SONGS] [SHIFTS] [KEY=VALUE ...]: strata unmix's figures for
-- doc/quality.md, and their spread over small shifts of the bar grid.
--   SONGS: comma-separated; "sonicpi" (the corpus item, $STRATA_CORPUS) or a seed N of the demo's
--          generator (testsong, 32 bars at 120 BPM, arrangement "loops"); default sonicpi,1,2,3
--   SHIFTS: comma-separated milliseconds added to every true downbeat (default 0); "tracker" runs
--           strata's own beat tracker and bar_grid instead of the true downbeats
--   KEY=VALUE: options of patches/methods/unmix.lua's build (numbers or strings)
-- Prints one row per song and shift: per-stem SDR (BSS Eval v3, best permutation, mono), the
-- mean, layout r from the loops' activations and r from the stems' energy per bar (the
-- Unmixer's measure), then each song's mean and range over the shifts.
-- SHOW_LAYOUT=1 also prints, per stem, the plan and the matched loop's activation (0-9) per bar.
local strata = require "strata"
local method = dofile("patches/methods/unmix.lua")
local root = os.getenv("STRATA_CORPUS") or "../shared/corpus"

local songs, shifts, opts = { "sonicpi", "1", "2", "3" }, { "0" }, {}
local positional = {}
for _, a in ipairs(arg) do
  local k, v = a:match("^([%w_]+)=(.*)$")
  if k then
    if v == "false" then opts[k] = false
    else opts[k] = tonumber(v) or (v == "true" and true) or v end
  else positional[#positional + 1] = a end
end
local function split(s) local t = {} for x in s:gmatch("[^,]+") do t[#t + 1] = x end return t end
if positional[1] then songs = split(positional[1]) end
if positional[2] then shifts = split(positional[2]) end

local function pearson(a, b)
  local n, ma, mb = #a, 0, 0
  for i = 1, n do ma, mb = ma + a[i] / n, mb + b[i] / n end
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do sab, saa, sbb = sab + (a[i] - ma) * (b[i] - mb), saa + (a[i] - ma) ^ 2, sbb + (b[i] - mb) ^ 2 end
  if saa == 0 or sbb == 0 then return nil end
  return sab / math.sqrt(saa * sbb)
end

-- a song: mixture, refs (list), names, plan[name][bar] (0/1), bar_s, downbeat times
local function load_song(name)
  if name == "sonicpi" then
    local dir = root .. "/separation/sonicpi_97bpm_loops"
    local names = { "drone", "electric", "mehackit", "perc", "perc2" }
    local s = { mixture = strata.load { path = dir .. "/mixture.wav", channels = "mono" }, names = names, refs = {} }
    for i, n in ipairs(names) do s.refs[i] = strata.load { path = dir .. "/" .. n .. ".flac", channels = "mono" } end
    local text = assert(io.open(dir .. "/plan.json")):read("a")
    local plan = strata.json_decode and strata.json_decode(text) or dofile("tests/patch/json.lua").decode(text)
    s.plan, s.bar_s = {}, plan.bar_samples / plan.sr
    for _, n in ipairs(names) do s.plan[n] = plan.plan[n] end
    local times, labels = strata.load_beats(dir .. "/beats.txt"):samples()
    s.downbeats = {}
    for i = 1, #times do if labels[i] == 1 then s.downbeats[#s.downbeats + 1] = times[i] end end
    return s
  end
  local song = strata.testsong { bars = 32, tempo = 120, arrangement = "loops", seed = tonumber(name) }
  local names = { "drums", "bass", "chords", "lead" }
  local s = { mixture = song.mixture, names = names, refs = {}, plan = {}, bar_s = 2.0 }
  local p = song.plan:samples()
  for i, n in ipairs(names) do
    s.refs[i] = song[n]
    s.plan[n] = {}
    for b = 1, 32 do s.plan[n][b] = p[(b - 1) * #names + i] end
  end
  local times, labels = song.beats:samples()
  s.downbeats = {}
  for i = 1, #times do if labels[i] == 1 then s.downbeats[#s.downbeats + 1] = times[i] end end
  return s
end

local tmp = os.tmpname()
local function shifted(s, ms)
  local f = assert(io.open(tmp, "w"))
  for _, t in ipairs(s.downbeats) do
    local x = t + ms / 1000
    if x >= 0 then f:write(string.format("%.6f\t1\n", x)) end
  end
  f:close()
  return strata.load_beats(tmp)
end

local function one(s, shift)
  local o = { loops = #s.names, print = os.getenv("SHOW_LAYOUT") and print }
  for k, v in pairs(opts) do o[k] = v end
  if o.ranks and type(o.ranks) == "string" then o.ranks = { table.unpack(split(o.ranks)) }
    for i = 1, #o.ranks do o.ranks[i] = tonumber(o.ranks[i]) end end
  local downbeats
  if shift == "tracker" then downbeats, o.regrid = method.downbeats(strata, s.mixture), true
  else downbeats = shifted(s, tonumber(shift)) end
  local t0 = strata.now()
  local run = method.build(strata, s.mixture, downbeats, o)
  local scores = strata.bsseval(strata.list(s.refs), run.stems)
  local seconds = strata.now() - t0
  local sdr, perm = scores.sdr:samples(), scores.permutation:samples()
  local bars = run.cube.bars:samples()
  local act = run.loops.activation:samples()
  local K = run.n_loops
  local n_plan = #s.plan[s.names[1]]
  local function model_bar(b)
    local middle = (b - 0.5) * s.bar_s
    for m = 1, run.n_bars do if middle >= bars[2 * m - 1] and middle < bars[2 * m] then return m end end
    return run.n_bars
  end
  local mean, r_act, r_energy, n_r = 0, 0, 0, 0
  local row = {}
  local rate = 44100
  for i, n in ipairs(s.names) do
    mean = mean + sdr[i] / #s.names
    row[#row + 1] = string.format("%.2f", sdr[i])
    local k = math.tointeger(perm[i]) + 1
    local truth, found, energy = {}, {}, {}
    local stem = run.stems[k]:samples()
    for b = 1, n_plan do
      truth[b] = s.plan[n][b]
      found[b] = act[(model_bar(b) - 1) * K + k]
      local a, z = math.floor((b - 1) * s.bar_s * rate) + 1, math.min(#stem, math.floor(b * s.bar_s * rate))
      local e = 0
      for j = a, z do e = e + stem[j] * stem[j] end
      energy[b] = math.sqrt(e / math.max(1, z - a + 1))
    end
    local r1, r2 = pearson(found, truth), pearson(energy, truth)
    if os.getenv("SHOW_LAYOUT") then
      local a, t = {}, {}
      for b = 1, n_plan do a[b] = string.format("%d", math.floor(found[b] * 9 + 0.5)) t[b] = tostring(truth[b]) end
      print(string.format("  %-9s plan %s  found %s", n, table.concat(t), table.concat(a)))
    end
    if r1 and r2 then r_act, r_energy, n_r = r_act + r1, r_energy + r2, n_r + 1 end
  end
  return mean, r_act / math.max(n_r, 1), r_energy / math.max(n_r, 1), table.concat(row, " / "), seconds, run
end

print("| song | shift ms | stems SDR | mean | r (activation) | r (stem energy) | slices | s |")
print("|---|---|---|---|---|---|---|---|")
local all = {}
for _, name in ipairs(songs) do
  local s = load_song(name)
  local sum, lo, hi, n, rs, res = 0, math.huge, -math.huge, 0, 0, 0
  for _, shift in ipairs(shifts) do
    local mean, ra, re, row, secs, run = one(s, shift)
    print(string.format("| %s | %s | %s | %.2f | %.2f | %.2f | %d x %d /%d | %.1f |", name, shift, row, mean, ra, re,
      run.n_bars, run.bars_per_unit, run.period, secs))
    io.stdout:flush()
    sum, n, lo, hi, rs, res = sum + mean, n + 1, math.min(lo, mean), math.max(hi, mean), rs + ra, res + re
  end
  all[#all + 1] = string.format("| %s | over %d shifts | mean %.2f, range %.2f .. %.2f | r %.2f / %.2f |", name, n,
    sum / n, lo, hi, rs / n, res / n)
end
for _, l in ipairs(all) do print(l) end
os.remove(tmp)
