-- strata run tests/bench/unmix_stages.lua SONG [OUT]: the stages of `strata unmix`'s default
-- path (its own beat tracker and bar_grid, 4 loops) one after the other, each evaluated before
-- the next, with the wall and CPU seconds (os.clock: all threads) of each. For
-- doc/performance.md's per-stage table (bench_unmix times the whole command). OUT: where the
-- files go (default a folder beside SONG).
local strata = require "strata"
local method = dofile("patches/methods/unmix.lua")
local song = assert(arg[1], "usage: unmix_stages.lua SONG [OUT]")
local out = arg[2] or (song:match("^(.*)/[^/]*$") or ".") .. "/unmix-stages"
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
local spec = audio:stft { n_fft = 2048, hop = 512 }
stage("STFT", function() return spec:eval() end)
local grid = spec:bar_grid(beats)
stage("bar_grid", function() return grid.downbeats:eval() end)
local cut = spec:cube(grid.downbeats, { align = "pad" })
stage("cube, one-bar slices", function() return cut.cube:eval() end)
local unit = method.loop_length(cut.similarity:samples(), cut.cube:eval().shape[3], 4)
if unit > 1 then cut = spec:cube(grid.downbeats, { align = "pad", bars_per_unit = unit }) end
stage("cube, the slices used", function() return cut.cube:eval() end)
local p = method.presets.strata
local model = strata.ntd(cut.cube, { rank_freq = p.ranks[1], rank_time = p.ranks[2], rank_bar = 4 * p.types_per_loop,
                                     iterations = p.iterations, tol = p.tol })
stage("ntd (svd start + iterations)", function() return model.core:eval() end)
local parts = strata.loops(model, cut.cube, cut.bars, { loops = 4, purify = p.purify, sparsity = p.sparsity,
                                                        refine = p.refine, period = p.period })
stage("loops", function() return parts.activation:eval() end)
local stems = strata.loop_stems(spec, parts.tiles, parts.activation, cut.frames, { mask = p.mask, power = p.power })
stage("loop_stems (masks + ISTFTs)", function() return stems[1]:eval() end)
local run = { cube = cut, model = model, loops = parts, stems = stems, n_loops = 4, ranks = { 16, 16, 8 },
              n_bars = cut.cube:eval().shape[3], bars_per_unit = unit, period = 1 }
stage("files (WAV, pictures, JSON)", function() return method.write(strata, run, out, {}) end)
rows[#rows + 1] = { "total", strata.now() - wall0, os.clock() - cpu0 }
print(string.format("%-30s %8s %8s", "stage", "wall s", "CPU s"))
for _, r in ipairs(rows) do print(string.format("%-30s %8.3f %8.3f", r[1], r[2], r[3])) end
print(string.format("NTD iterations %d; load %s", #model.errors:samples(),
  (io.open("/proc/loadavg") or { read = function() return "?" end }):read("l") or "?"))
