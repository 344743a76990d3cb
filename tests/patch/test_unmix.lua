-- strata unmix on a generated loop song with known stems: the drum loop comes out clean (SDR
-- above a threshold), the Wiener stems add up to the mixture, the layout follows the true plan,
-- loops are cut at bar lines, and the command writes its files and refuses bad input in one line.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

if not rawget(strata, "ntd") then
  print("skip unmix: this build has no ntd node")
  return
end
local method = dofile("patches/methods/unmix.lua")

-- 16 bars at 240 BPM (1 s bars): drums 1111111100001111, bass 0000111111111111, chords
-- 0011111111110011, lead 0000001111111100
local song = strata.testsong { bars = 16, tempo = 240, arrangement = "loops" }
local names = { "drums", "bass", "chords", "lead" }
-- the Tucker model (one loop type per slice's template; the default until the parts model)
local run = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, model = "tucker" })
t.check("exactly the loops asked for", run.n_loops == 4 and run.kind == "tucker", run.n_loops)

local refs = {}
for i, n in ipairs(names) do refs[i] = song[n] end
local scores = strata.bsseval(strata.list(refs), run.stems)
local sdr, perm = scores.sdr:samples(), scores.permutation:samples()
t.check("the drum loop is separated (SDR above 8 dB)", sdr[1] > 8, string.format("%.2f dB", sdr[1]))

-- Wiener masks sum to one: the stems add up to the mixture
local total = run.stems[1] + run.stems[2] + run.stems[3] + run.stems[4]
local err = (total - song.mixture):eval().peak
t.check("the stems add up to the mixture", err < 1e-4, err)

-- the drums' loop is on where the drums play and off where they rest
local act, plan = run.loops.activation:samples(), song.plan:samples()
local k = math.tointeger(perm[1]) + 1
local on, off = 1, 0
for b = 1, 16 do
  local a = act[(b - 1) * 4 + k]
  if plan[(b - 1) * 4 + 1] == 1 then on = math.min(on, a) else off = math.max(off, a) end
end
t.check("the drum loop's activation follows the plan", on > 0.5 and off < 0.2,
  string.format("lowest where on %.2f, highest where off %.2f", on, off))

-- the Unmixer's masks are at most one: no stem is louder than the mixture anywhere
local soft = strata.loop_stems(run.cube.cube and song.mixture:stft { n_fft = 2048, hop = 512 }, run.loops.tiles,
  run.loops.activation, run.cube.frames, { mask = "unmixer" })
local louder = 0
for k = 1, 4 do louder = math.max(louder, soft[k]:eval().rms / song.mixture:eval().rms) end
t.check("unmixer masks give stems no louder than the mixture", louder <= 1, louder)

-- slices of two bars where the song repeats so (its lead is a two-bar riff): a one-bar cube would
-- split the riff into two loop types that take turns; seeds give other keys and progressions
for seed = 1, 4 do
  local long = strata.testsong { bars = 32, tempo = 240, arrangement = "loops", seed = seed }
  local cut = long.mixture:stft { n_fft = 2048, hop = 512 }:cube(long.beats)
  local sim = cut.similarity:samples()
  t.check("seed " .. seed .. ": two-bar slices for a two-bar riff", method.loop_length(sim, 32, 4) == 2,
    string.format("similarity one bar apart %.3f, two %.3f", sim[1], sim[2]))
end
t.check("one-bar slices when two would leave too few", method.loop_length({ 0.4, 0.5 }, 16, 5) == 1)

-- loops longer than the slice (period 2): in one-bar slices the two-bar lead riff keeps a template
-- per phase; each tile holds the whole cycle, the Wiener stems still add up to the mixture, and
-- each phase's activation peaks at 1
local phased = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, bars_per_unit = 1, period = 2, model = "tucker" })
local tiles_shape = phased.loops.tiles:eval().shape
t.check("period 2: a tile holds both phases of the cycle",
  tiles_shape[3] == 2 * phased.cube.cube:eval().shape[2], table.concat(tiles_shape, " x "))
local phased_total = phased.stems[1] + phased.stems[2] + phased.stems[3] + phased.stems[4]
err = (phased_total - song.mixture):eval().peak
t.check("period 2: the stems add up to the mixture", err < 1e-4, err)
local pa, peaks_ok = phased.loops.activation:samples(), true
for k = 1, 4 do
  for q = 0, 1 do
    local top = 0
    for b = q, 15, 2 do top = math.max(top, pa[b * 4 + k]) end
    peaks_ok = peaks_ok and (top == 0 or math.abs(top - 1) < 1e-6)
  end
end
t.check("period 2: each phase's activation peaks at 1", peaks_ok)
-- the phases are fitted apart: some loop's two phase templates differ (the riff's two bars), the
-- tile being (loop, freq, cycle time)
local tiles, least = phased.loops.tiles:samples(), 1
local n_freq, cycle = tiles_shape[2], tiles_shape[3]
for k = 0, 3 do
  local ab, aa, bb = 0, 0, 0
  for f = 0, n_freq - 1 do
    for i = 1, cycle // 2 do
      local base = (k * n_freq + f) * cycle
      local a, b = tiles[base + i], tiles[base + cycle // 2 + i]
      ab, aa, bb = ab + a * b, aa + a * a, bb + b * b
    end
  end
  if aa > 0 and bb > 0 then least = math.min(least, ab / math.sqrt(aa * bb)) end
end
t.check("period 2: some loop's two phase templates differ (cosine below 0.9)", least < 0.9,
  string.format("least cosine %.3f", least))
local pinst = phased.loops.instance:samples()
t.check("period 2: an instance is a whole cycle", pinst[2] == 2 and pinst[8] == 2, pinst[2])
t.check("a cycle of two slices when the song repeats more at two than at one",
  method.cycle({ 0.8, 0.88 }, 16) == 2 and method.cycle({ 0.88, 0.8 }, 16) == 1 and method.cycle({ 0.8, 0.88 }, 6) == 1)

-- ntd's cycle model (period 2): a loop type owns a two-slice cycle, one template per phase and one
-- activation per cycle; its error never increases; the loops and stems built on it keep the
-- cycle, and the Wiener stems still add up to the mixture
local cut1 = song.mixture:stft { n_fft = 2048, hop = 512 }:cube(song.beats)
local cyc = strata.ntd(cut1.cube, { rank_freq = 8, rank_time = 8, rank_bar = 4, iterations = 40, tol = 0,
  period = 2 })
local core_shape, errs = cyc.core:eval().shape, cyc.errors:samples()
t.check("cycle model: the core is sound x rhythm x phase x loop type",
  #core_shape == 4 and core_shape[3] == 2 and core_shape[4] == 4, table.concat(core_shape, " x "))
local rises = 0
for i = 2, #errs do if errs[i] > errs[i - 1] * (1 + 1e-6) then rises = rises + 1 end end
t.check("cycle model: the error never increases", #errs == 40 and rises == 0 and errs[40] < errs[1],
  string.format("%d iterations, %d rises, %.4f -> %.4f", #errs, rises, errs[1], errs[#errs]))
local lay, tied = cyc.layout:samples(), true
for b = 0, 14, 2 do
  for l = 1, 4 do tied = tied and lay[b * 4 + l] == lay[(b + 1) * 4 + l] end
end
t.check("cycle model: both slices of a cycle have the cycle's activation", tied)
local staggered = strata.ntd(cut1.cube, { rank_freq = 8, rank_time = 8, rank_bar = 4, iterations = 20, tol = 0,
  period = 2, stagger = true }).layout:samples()
local even_tied, odd_tied = true, true -- types 0 and 2 pair slices (0,1), (2,3)...; types 1 and 3 (1,2), (3,4)...
for b = 0, 14, 2 do even_tied = even_tied and staggered[b * 4 + 1] == staggered[(b + 1) * 4 + 1] end
for b = 1, 13, 2 do odd_tied = odd_tied and staggered[b * 4 + 2] == staggered[(b + 1) * 4 + 2] end
t.check("cycle model, staggered: each type's cycles start at its own offset",
  even_tied and odd_tied and staggered[0 * 4 + 2] ~= staggered[1 * 4 + 2])
local cycled = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, bars_per_unit = 1, model = "cycle" })
t.check("--model cycle chooses the song's cycle (two bars here)", cycled.period == 2, cycled.period)
local built, one_bar = pcall(function()
  local run = method.build(strata, song.mixture, song.beats,
    { loops = 4, ranks = { 16, 16, 8 }, iterations = 5, refine = 0, bars_per_unit = 1, model = "cycle", period = 1,
      stagger = true })
  run.model.core:eval()
  return run
end)
t.check("--model cycle with a one-slice cycle drops stagger, which cannot act there",
  built and one_bar.period == 1 and one_bar.stagger == nil, tostring(one_bar))
local cycled_total = cycled.stems[1] + cycled.stems[2] + cycled.stems[3] + cycled.stems[4]
err = (cycled_total - song.mixture):eval().peak
t.check("cycle model: the stems add up to the mixture", err < 1e-4, err)
t.check("cycle model: a tile holds both phases of the cycle",
  cycled.loops.tiles:eval().shape[3] == 2 * cycled.cube.cube:eval().shape[2])
scores = strata.bsseval(strata.list(refs), cycled.stems)
t.check("cycle model: the drum loop above 8 dB", scores.sdr:samples()[1] > 8,
  string.format("%.2f dB", scores.sdr:samples()[1]))
-- without purification or refinement each tile phase is the model's: loop k's phase q is
-- W G[:, :, q, k] H^T times the peak of k's activation over the slices in phase q
do
  local unrefined = strata.loops(cyc, cut1.cube, cut1.bars, { loops = 4, purify = false, refine = 0, period = 2 })
  local W, H, G, D = cyc.sound:samples(), cyc.rhythm:samples(), cyc.core:samples(), cyc.layout:samples()
  local tiles = unrefined.tiles:samples()
  local shape = cut1.cube:eval().shape
  local F, T, B, R0, R1, L, P = shape[1], shape[2], shape[3], 8, 8, 4, 2
  local worst = 0
  for k = 0, L - 1 do
    for q = 0, P - 1 do
      local peak = 0
      for b = q, B - 1, P do peak = math.max(peak, D[b * L + k + 1]) end
      for _, ft in ipairs { { 10, 5 }, { 100, 50 }, { 300, T - 1 }, { F - 1, 3 } } do
        local f, t0 = ft[1], ft[2]
        local want = 0
        for i = 0, R0 - 1 do
          for j = 0, R1 - 1 do
            want = want + W[f * R0 + i + 1] * G[((i * R1 + j) * P + q) * L + k + 1] * H[t0 * R1 + j + 1]
          end
        end
        want = want * peak
        local got = tiles[k * F * T * P + (f * P + q) * T + t0 + 1]
        worst = math.max(worst, math.abs(got - want) / math.max(math.abs(want), 1e-20))
      end
    end
  end
  t.check("cycle model: loops without refinement take each phase's template from the model", worst < 1e-5,
    worst)
end
for _, bad in ipairs { { { stagger = true }, "stagger acts only with period > 1" },
                       { { slice_types = 1 }, "slice_types acts only with period > 1" },
                       { { period = 2, slice_types = 5 }, "slice_types = 5 exceeds rank_bar = 4" } } do
  local o = { rank_freq = 8, rank_time = 8, rank_bar = 4, iterations = 2 }
  for k, v in pairs(bad[1]) do o[k] = v end
  local ok, msg = pcall(function() return strata.ntd(cut1.cube, o).core:eval() end)
  t.check("ntd refuses: " .. bad[2], not ok and tostring(msg):find(bad[2], 1, true) ~= nil, tostring(msg))
end
local ok_mismatch, why = pcall(function()
  return strata.loops(cyc, cut1.cube, cut1.bars, { loops = 2, refine = 5 }).activation:eval()
end)
t.check("cycle model: loops with another period is refused, naming it",
  not ok_mismatch and tostring(why):match("period = 1"), why)
local ok_hals, why_hals = pcall(function() return strata.ntd(cut1.cube, { period = 2, algorithm = "hals" }) end)
t.check("cycle model: hals is refused", not ok_hals and tostring(why_hals):match("needs algorithm"), why_hals)

-- grouping by energy: exactly K loops, the drums still found
local by_energy = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, group = "energy", model = "tucker" })
scores = strata.bsseval(strata.list(refs), by_energy.stems)
t.check("grouping by energy: 4 loops, the drum loop above 8 dB",
  by_energy.n_loops == 4 and scores.sdr:samples()[1] > 8, string.format("%.2f dB", scores.sdr:samples()[1]))

-- grouping by sound (of the Tucker model's types), and parts (the default): exactly K loops, stems that add up to the mixture, the drums found
local by_sound = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, group = "sound", model = "tucker" })
scores = strata.bsseval(strata.list(refs), by_sound.stems)
t.check("grouping by sound: 4 loops, the drum loop above 8 dB",
  by_sound.n_loops == 4 and scores.sdr:samples()[1] > 8, string.format("%.2f dB", scores.sdr:samples()[1]))
local by_parts = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30 })
t.check("the default model is parts, in one-bar slices",
  by_parts.kind == "parts" and by_parts.bars_per_unit == 1 and by_parts.loops.part_loop ~= nil,
  string.format("%s, %s bars per slice", tostring(by_parts.kind), tostring(by_parts.bars_per_unit)))
-- grouped by sound: its parts join as an explicit group = "sound" joins them, and on this song
-- the grouping by activations joins them otherwise (so the first check could fail)
local function grouped(how)
  return method.build(strata, song.mixture, song.beats,
    { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, group = how }).loops.part_loop
end
t.check("the default model's parts are grouped by sound", t.identical(by_parts.loops.part_loop, grouped("sound")))
t.check("grouping its parts by activations would join them otherwise",
  not t.identical(by_parts.loops.part_loop, grouped("correlation")))
local published = method.build(strata, song.mixture, song.beats, { loops = 4, iterations = 5, preset = "smith2018" })
t.check("smith2018 keeps the published Tucker model: K loop types, ranks 32/40/K",
  published.kind == "tucker" and published.ranks[1] == 32 and published.ranks[2] == 40 and published.ranks[3] == 4,
  string.format("%s, ranks %s", tostring(published.kind), table.concat(published.ranks, ",")))
scores = strata.bsseval(strata.list(refs), by_parts.stems)
local parts_total = by_parts.stems[1] + by_parts.stems[2] + by_parts.stems[3] + by_parts.stems[4]
err = (parts_total - song.mixture):eval().peak
t.check("parts: 4 loops whose stems add up to the mixture, the drum loop above 8 dB",
  by_parts.n_loops == 4 and err < 1e-4 and scores.sdr:samples()[1] > 8,
  string.format("%d loops, error %g, %.2f dB", by_parts.n_loops, err, scores.sdr:samples()[1]))
-- every loop has a part; a loop's activation peaks at 1 and is the norm of its parts' sum
local part_of, loop_has = by_parts.loops.part_loop:samples(), {}
for j = 1, #part_of do loop_has[math.tointeger(part_of[j]) + 1] = true end
t.check("parts: every one of the 4 loops made of some",
  loop_has[1] and loop_has[2] and loop_has[3] and loop_has[4], #part_of)
-- the split: 8 parts (the model's loop types) without it; with it, the pitched parts that are two
-- instruments (this song's bass and chords follow one progression) are split in two
local unsplit = method.build(strata, song.mixture, song.beats,
  { loops = 4, ranks = { 16, 16, 8 }, iterations = 60, refine = 30, split = false })
local n_unsplit = #unsplit.loops.part_loop:samples()
t.check("parts: 8 parts with split = false, more with the split (the default)",
  n_unsplit == 8 and #part_of > 8, string.format("%d / %d", n_unsplit, #part_of))
local J = #part_of
local pa, pt = by_parts.loops.part_activation:samples(), by_parts.loops.part_tiles:samples()
local la, n_cells = by_parts.loops.activation:samples(), #pt // J
local n_slices, worst = #pa // J, 0
for k = 1, 4 do
  local level, peak = {}, 0
  for b = 1, n_slices do
    local e = 0
    for c = 1, n_cells do -- every cell: the loop's sum there, against its activation
      local v = 0
      for j = 1, J do
        if math.tointeger(part_of[j]) + 1 == k then v = v + pt[(j - 1) * n_cells + c] * pa[(b - 1) * J + j] end
      end
      e = e + v * v
    end
    level[b] = math.sqrt(e)
    peak = math.max(peak, level[b])
  end
  for b = 1, n_slices do worst = math.max(worst, math.abs(level[b] / peak - la[(b - 1) * 4 + k])) end
end
t.check("parts: each loop's activation is the level of its parts' sum, peak 1", worst < 1e-3, worst)
-- a loop's stem is its parts' stems summed: loop_stems' groups against the parts' own stems
local parts_spec = song.mixture:stft { n_fft = 2048, hop = 512 }
local each = strata.loop_stems(parts_spec, by_parts.loops.part_tiles, by_parts.loops.part_activation,
  by_parts.cube.frames)
local summed, worst_sum = {}, 0
for j = 1, #part_of do
  local k = math.tointeger(part_of[j]) + 1
  summed[k] = summed[k] and summed[k] + each[j] or each[j]
end
for k = 1, 4 do worst_sum = math.max(worst_sum, (summed[k] - by_parts.stems[k]):eval().peak) end
t.check("parts: a loop's stem is the sum of its parts' stems (groups in loop_stems)", worst_sum < 1e-5,
  worst_sum)
-- with parts, loops may outnumber the model's loop types (rank_bar 8 here): the parts are joined
local many = strata.loops(by_parts.model, by_parts.cube.cube, by_parts.cube.bars, { loops = 10, parts = 12 })
local ok_many, n_many = pcall(function() return many.activation:eval().shape[2] end)
t.check("parts: 10 loops from 12 parts of a model of 8 loop types", ok_many and n_many == 10, tostring(n_many))
-- one number per tile (J of them), ending as given: a stem out of range, a stem missing, not a number
local function ending(last, missing)
  local g = {}
  for j = 1, J - 1 do g[j] = tostring(missing and (j <= 2 and j - 1 or 3) or math.min(j - 1, 3)) end
  g[J] = last
  return table.concat(g, ",")
end
for _, groups in ipairs { "0,1", ending("9"), ending("3", true), ending("x") } do
  local ok, msg = pcall(function()
    return strata.loop_stems(parts_spec, by_parts.loops.part_tiles, by_parts.loops.part_activation,
      by_parts.cube.frames, { groups = groups })[1]:eval()
  end)
  t.check("loop_stems refuses groups = " .. groups, not ok and tostring(msg):find("groups = ", 1, true) ~= nil,
    tostring(msg))
end
for _, bad in ipairs {
  { function() return strata.loops(cyc, cut1.cube, cut1.bars, { loops = 2, period = 2, refine = 5, parts = 4 }) end,
    "parts = 4 takes a model of one template per loop type" },
  { function() return strata.loops(by_parts.model, by_parts.cube.cube, by_parts.cube.bars, { loops = 5, parts = 4 }) end,
    "loops = 5: more than parts = 4" },
  { function() return strata.loops(cyc, cut1.cube, cut1.bars, { loops = 2, period = 2, refine = 5, group = "sound" }) end,
    "group = \"sound\" takes a model of one template per loop type" },
} do
  local ok, msg = pcall(function() return bad[1]().activation:eval() end)
  t.check("loops refuses: " .. bad[2], not ok and tostring(msg):find(bad[2], 1, true) ~= nil, tostring(msg))
end

-- the command: files, a loop of whole bars, layout.json
local dir = t.tmpdir()
local beats = dir .. "/beats.txt"
local f = assert(io.open(beats, "w"))
for b = 0, 15 do f:write(string.format("%d 1\n", b)) end
f:close()
song.mixture:save(dir .. "/song.wav")
local strata_bin = os.getenv("STRATA") or "./strata"
local function unmix(args)
  local p = io.popen(string.format("%s unmix %s 2>&1; echo \"exit $?\"", strata_bin, args))
  local text = p:read("a")
  p:close()
  return text, tonumber(text:match("exit (%d+)%s*$"))
end
local out, status = unmix(string.format("'%s/song.wav' -o '%s/out' --loops 3 --ranks 16,16,6 --iterations 40 " ..
  "--bars-per-loop 2 --downbeats '%s'", dir, dir, beats))
t.check("strata unmix runs", status == 0, out)
local json = require "json"
local lf = io.open(dir .. "/out/layout.json")
local layout = lf and json.decode(lf:read("a"))
if lf then lf:close() end
t.check("layout.json: 3 loops, an activation per bar", layout and #layout.loops == 3 and #layout.bars == 16
  and #layout.loops[1].activation == 16, out)
t.check("layout.json: the default model is parts", layout and layout.model == "parts", layout and layout.model)
local files_ok = true
for _, name in ipairs { "loops/loop_01.wav", "loops/loop_03.wav", "stems/loop_02.wav", "layout.png", "loops.png",
  "beats.txt" } do
  local g = io.open(dir .. "/out/" .. name)
  files_ok = files_ok and g ~= nil
  if g then g:close() end
end
t.check("loops, stems, pictures and beats are written", files_ok, out)
local loop = strata.load(dir .. "/out/loops/loop_01.wav"):eval()
t.check("a loop of two bars lasts two bars, to the sample", loop.frames == 2 * 44100, loop.frames)
local stem = strata.load(dir .. "/out/stems/loop_01.wav"):eval()
t.check("a stem is as long as the song", stem.frames == song.mixture:eval().frames, stem.frames)

-- bad input: one line, non-zero
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --loops 40 --downbeats '%s'", dir, dir, beats))
t.check("more loops than bars is refused", status ~= 0 and out:match("more than the song's 16 bars"), out)
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --ranks 16,500,4 --iterations 5 --downbeats '%s'",
  dir, dir, beats))
t.check("a rank larger than its mode is clamped, and said", status == 0 and out:match("using %d+"), out)
local late = dir .. "/late.txt"
f = assert(io.open(late, "w"))
f:write("0 1\n1 1\n99 1\n")
f:close()
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --downbeats '%s'", dir, dir, late))
t.check("downbeats beyond the end are refused", status ~= 0 and out:match("beyond the end"), out)
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --model sections --downbeats '%s'", dir, dir, beats))
t.check("an unknown --model is refused in one line", status ~= 0 and out:match("%-%-model is parts, tucker or cycle"), out)
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --model parts --period 2 --downbeats '%s'", dir, dir, beats))
t.check("--model parts with --period is refused in one line", status ~= 0 and out:match("takes no %-%-period"), out)
out, status = unmix(string.format("'%s/song.wav' -o '%s/bad' --period 2 --downbeats '%s'", dir, dir, beats))
t.check("--period with the default model is refused in one line, naming --model tucker",
  status ~= 0 and out:match("takes no %-%-period.*%-%-model tucker"), out)
out, status = unmix(string.format("'%s/song.wav' -o '%s/tucker' --model tucker --loops 3 --iterations 20 --refine 5 " ..
  "--downbeats '%s'", dir, dir, beats))
lf = io.open(dir .. "/tucker/layout.json")
layout = lf and json.decode(lf:read("a"))
if lf then lf:close() end
t.check("--model tucker runs the Tucker model", status == 0 and layout and layout.model == "tucker"
  and #layout.loops == 3, out)
out, status = unmix(string.format("'%s/song.wav' --downbeats '%s'", dir, beats))
t.check("no -o is refused", status ~= 0 and out:match("missing %-o"), out)
os.execute("rm -rf '" .. dir .. "'")
