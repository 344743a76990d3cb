-- strata run tests/bench/unmix_stages.lua SONG [OUT] [LOOPS]: the stages of `strata unmix`'s
-- default path (its own beat tracker, bar_grid, the default preset and model; LOOPS given or,
-- 0, chosen from the song) one after the other, each evaluated before the next, with the wall
-- and CPU seconds (os.clock: all threads) of each. For doc/performance.md's per-stage table
-- (bench_unmix times the whole command). OUT: where the files go (default a folder beside SONG).
--
-- The graph is the one `strata unmix` builds: patches/methods/unmix.lua's build() is called
-- with the command's options, on a copy of the strata table whose ntd, loops and loop_stems
-- evaluate what they are given before they make their node, so each stage is timed where build
-- asks for it (a node evaluated twice in one process is computed once).
local strata = require "strata"
local method = dofile("patches/methods/unmix.lua")
local song = assert(arg[1], "usage: unmix_stages.lua SONG [OUT] [LOOPS]")
local out = arg[2] or (song:match("^(.*)/[^/]*$") or ".") .. "/unmix-stages"
local loops = math.tointeger(tonumber(arg[3] or "0")) or 0
local rows = {}
local function stage(name, fn)
  local wall, cpu = strata.now(), os.clock()
  local r = fn()
  rows[#rows + 1] = { name, strata.now() - wall, os.clock() - cpu }
  return r
end
local wall0, cpu0 = strata.now(), os.clock()
local audio = strata.load(song)
stage("read the song", function() return audio:eval() end)
local beats = method.downbeats(strata, audio)
stage("beat tracker", function() return beats:eval() end)
-- the STFT and bar_grid that build makes (its n_fft and hop; a node made twice is one node):
-- evaluated here to time them apart; should build's defaults move, their time shows up in
-- "build's own" below instead
local spec = audio:stft { n_fft = 2048, hop = 512 }
stage("STFT", function() return spec:eval() end)
stage("bar_grid", function() return spec:bar_grid(beats).downbeats:eval() end)

local timed = {}
for k, v in pairs(strata) do timed[k] = v end
timed.ntd = function(cube, o)
  stage("cube", function() return cube:eval() end)
  local model = strata.ntd(cube, o)
  stage("ntd (SVD start + iterations)", function() return model.core:eval() end)
  return model
end
timed.loops = function(model, cube, bars, o)
  local r = strata.loops(model, cube, bars, o)
  stage("loops", function() return r.activation:eval() end)
  return r
end
local build_wall, build_cpu = strata.now(), os.clock()
local inner = #rows
local run = method.build(timed, audio, beats, { loops = loops, regrid = true })
local rest_wall, rest_cpu = strata.now() - build_wall, os.clock() - build_cpu
for i = inner + 1, #rows do rest_wall, rest_cpu = rest_wall - rows[i][2], rest_cpu - rows[i][3] end
rows[#rows + 1] = { "build's own (cube, loop length)", rest_wall, rest_cpu }
stage(string.format("loop_stems (%d stems)", run.n_loops), function()
  for k = 1, run.n_loops do run.stems[k]:eval() end
end)
stage("files (WAV, pictures, JSON)", function() return method.write(strata, run, out, {}) end)
rows[#rows + 1] = { "total", strata.now() - wall0, os.clock() - cpu0 }
print(string.format("%-30s %8s %8s", "stage", "wall s", "CPU s"))
for _, r in ipairs(rows) do print(string.format("%-30s %8.3f %8.3f", r[1], r[2], r[3])) end
print(string.format("%d loops, %d bars; model %s, NTD iterations %d; load %s", run.n_loops, run.n_bars, run.kind,
  #run.model.errors:samples(), (io.open("/proc/loadavg") or { read = function() return "?" end }):read("l") or "?"))
