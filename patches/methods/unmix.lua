-- Loop extraction (strata unmix): cube at the downbeats, non-negative Tucker model, loop types
-- joined and purified, masks, one stem per loop type. `strata unmix`, `strata demo` and
-- `strata compare --methods unmix` all build their graph with build() below.
local M = {
  doc = "strata unmix: NTD loop extraction, loops as sums of parts (K = the number of references; "
    .. "downbeats from beats.txt beside the mixture, else the beats node)",
}

-- The configurations. "strata" is the default: the parts model (the Tucker model's loop types
-- re-factorised into parts, parts joined into loops by sound; doc/unmix.md), with the Tucker
-- model's settings (`model = "tucker"` under this preset is the default of sessions 1-6);
-- "smith2018" is the published pipeline
-- (Smith & Goto, ICASSP 2018, as loopextractor runs it: ranks 32/40/K, TensorLy MU for up to
-- 500 iterations, one loop type per stem, the soft mask against the mixture, power 2 as the
-- corpus's peer figures were made).
M.presets = {
  strata = { model = "parts", bars_per_unit = 0, period = 1, ranks = { 16, 16, 0 }, types_per_loop = 2, iterations = 200, tol = 1e-4, purify = true,
             sparsity = 0.1, refine = 25, mask = "wiener", power = 2 },
  smith2018 = { model = "tucker", bars_per_unit = 1, period = 1, ranks = { 32, 40, 0 }, types_per_loop = 1, iterations = 500, tol = 1e-4, purify = false,
                sparsity = 0, refine = 0, mask = "unmixer", power = 2 },
}

local function say(o, text)
  if o.print then o.print(text) end
end

-- The slice length in bars: 2 when the song gives at least three slices per loop (a loop type is
-- told apart by slices where it plays and slices where it does not) and its bars are nearly as
-- alike two apart as one apart (similarity[lag]: cube's mean cosine similarity of each bar with
-- the bar lag later; nearly: at least 0.9 of it, the tolerance bar_grid uses too), else 1. The
-- longer slice is preferred because it nests the shorter: a one-bar loop in a two-bar slice is
-- the same loop twice, while a two-bar loop in one-bar slices is two loop types that take turns,
-- which no grouping by activation joins (their activations are anti-correlated). Not 4: a slice
-- longer than the arrangement's shortest change blurs the layout (parts that enter every two bars
-- are half on in a four-bar slice), and two-bar changes are common (both test songs have them).
M.similar_enough = 0.9
function M.loop_length(similarity, n_bars, loops)
  local need = 3 * math.max(loops, 3)
  if n_bars // 2 >= need and similarity[2] >= M.similar_enough * similarity[1] then return 2 end
  return 1
end

-- The loops' cycle in slices: 2 when the song is more alike two slices apart than one (a loop
-- longer than the slice, such as a two-bar drone in one-bar slices or a four-bar progression in
-- two-bar slices, repeats at two slices but not at one) and each phase keeps at least four
-- slices, else 1.
function M.cycle(similarity, n_slices)
  if n_slices >= 8 and similarity[2] > similarity[1] then return 2 end
  return 1
end

-- build(strata, audio, downbeats, o): the graph of one run.
--   audio: the song (any channels; the model sees the mean of its channels' magnitudes, the stems
--          keep its channels)
--   downbeats: events (label 1 = downbeat)
--   o: loops (0: chosen from the song), ranks {F, T, L} (0: the preset's), preset, iterations,
--      seed, mask, power, purify, sparsity, refine, bars_per_loop, bars_per_unit (0: chosen),
--      align, n_fft, hop, print, regrid (the downbeats are a tracker's beats: check the bar
--      length and phase against the song's repetition, bar_grid), group (correlation|energy|sound;
--      the parts model's default: sound), parts (with model "parts": how many; default the loop
--      types' rank), split (with model "parts": split pitched parts that are two instruments;
--      default true, false to measure without), period (slices in a loop's cycle; 0: chosen), model ("tucker", "cycle": ntd's cycle model,
--      whose period is chosen unless given, or "parts"; default the preset's: parts for strata,
--      tucker for smith2018)
-- Returns a table of handles and facts: cube (cube's record), model, loops (loops' record),
-- stems (a list of K audio), n_loops, ranks, n_bars, bars_per_unit, period, grid (bar_grid's
-- record when regrid), kind (the model), and stagger and slice_types for the cycle model.
function M.build(strata, audio, downbeats, o)
  if not rawget(strata, "ntd") then error("unmix: this build has no ntd node (the loop model)", 0) end
  local preset = M.presets[o.preset or "strata"]
  if not preset then error(string.format("unmix: no preset '%s' (have: strata, smith2018)", o.preset), 0) end
  local function pick(name) if o[name] ~= nil then return o[name] end return preset[name] end
  local n_fft, hop = o.n_fft or 2048, o.hop or 512
  -- one STFT of the song: the cube averages its channels' magnitudes, the stems mask it
  local spec = audio:stft { n_fft = n_fft, hop = hop }
  -- a tracker's beats: the bar length and phase the song's repetition supports (bar_grid)
  local grid
  if o.regrid then
    grid = spec:bar_grid(downbeats)
    downbeats = grid.downbeats
  end
  local cut = spec:cube(downbeats, { align = o.align or "pad" })
  local loops = o.loops or 0
  -- the model: "tucker" (a loop type is one slice's template), "cycle" (ntd's cycle model: a
  -- loop type owns a whole cycle of `period` slices, one template per phase, one activation per
  -- cycle; its period is chosen from the song unless given) or "parts" (the Tucker model's loop
  -- types re-factorised into parts, each loop a sum of parts that sound alike and take turns)
  local kind = pick("model")
  if kind ~= "tucker" and kind ~= "cycle" and kind ~= "parts" then
    error(string.format("unmix: no model '%s' (have: tucker, cycle, parts)", tostring(kind)), 0)
  end
  -- the slice: one bar, or the loop length the song repeats at (bars_per_unit 0: chosen). The
  -- parts model takes one bar: a loop longer than a bar is parts that take turns, which it joins
  local unit = o.bars_per_unit or (kind == "parts" and 1) or preset.bars_per_unit
  if unit == 0 then
    unit = M.loop_length(cut.similarity:samples(), cut.cube:eval().shape[3], loops)
    if unit > 1 then say(o, string.format("unmix: the song repeats every %d bars; slices of %d bars", unit, unit)) end
  end
  if unit > 1 then cut = spec:cube(downbeats, { align = o.align or "pad", bars_per_unit = unit }) end
  local shape = cut.cube:eval().shape
  -- the cycle: loops longer than the slice keep one template per phase (period 0: chosen)
  local period = pick("period")
  if kind == "cycle" and o.period == nil then period = 0 end
  if kind == "parts" and period == 0 then period = 1 end -- a loop's variations are its parts
  if period == 0 and pick("refine") == 0 and kind == "tucker" then
    period = 1 -- the phases are fitted apart by the refinement only
  elseif period == 0 then
    period = M.cycle(cut.similarity:samples(), shape[3])
    if period > 1 then say(o, string.format("unmix: loops repeat every %d slices; one template per phase", period)) end
  end
  local n_bins, n_time, n_bars = shape[1], shape[2], shape[3]
  if loops > n_bars then
    error(string.format("unmix: --loops %d is more than the song's %d bars", loops, n_bars), 0)
  end
  -- ranks: the preset's, with loop types = types_per_loop x K (8 when K is chosen from the song)
  local ranks = {}
  for i = 1, 3 do ranks[i] = (o.ranks and o.ranks[i] and o.ranks[i] > 0) and o.ranks[i] or preset.ranks[i] end
  if ranks[3] == 0 then ranks[3] = loops > 0 and loops * preset.types_per_loop or 8 end
  local limits, names = { n_bins, n_time, n_bars }, { "sound (F)", "rhythm (T)", "loop (L)" }
  local units = { "frequency bins", "frames in a bar", "bars" }
  for i = 1, 3 do
    if ranks[i] > limits[i] then
      say(o, string.format("unmix: %s rank %d is more than the %d %s; using %d", names[i], ranks[i], limits[i],
        units[i], limits[i]))
      ranks[i] = limits[i]
    end
  end
  if loops > ranks[3] then
    error(string.format("unmix: --loops %d needs at least %d loop types in the model (--ranks F,T,L)", loops, loops), 0)
  end
  local model = strata.ntd(cut.cube, { rank_freq = ranks[1], rank_time = ranks[2], rank_bar = ranks[3],
    iterations = pick("iterations"), tol = pick("tol"), init = o.seed and o.seed > 0 and "random" or "svd",
    seed = o.seed or 0, period = kind == "cycle" and period or 1, stagger = kind == "cycle" and period > 1 and o.stagger or false,
    slice_types = kind == "cycle" and period > 1 and o.slice_types or 0 })
  local parts = strata.loops(model, cut.cube, cut.bars, { loops = loops, purify = pick("purify"),
    sparsity = pick("sparsity"), refine = pick("refine"), bars_per_loop = o.bars_per_loop or 1,
    group = o.group or (kind == "parts" and "sound" or nil), period = period,
    parts = kind == "parts" and (o.parts or ranks[3]) or 0, split = o.split })
  local n_loops = parts.activation:eval().shape[2]
  local stems
  if kind == "parts" then -- each loop is a sum of parts: its mask the sum of its parts' masks
    local of = {}
    for j, k in ipairs(parts.part_loop:samples()) do of[j] = string.format("%d", k) end
    stems = strata.loop_stems(spec, parts.part_tiles, parts.part_activation, cut.frames,
      { mask = pick("mask"), power = pick("power"), groups = table.concat(of, ",") })
  else
    stems = strata.loop_stems(spec, parts.tiles, parts.activation, cut.frames,
      { mask = pick("mask"), power = pick("power"), period = period })
  end
  return { cube = cut, model = model, loops = parts, stems = stems, n_loops = n_loops, ranks = ranks,
           n_bars = n_bars, bars_per_unit = unit, period = period, grid = grid, kind = kind,
           stagger = kind == "cycle" and period > 1 and o.stagger or nil,
           slice_types = kind == "cycle" and period > 1 and o.slice_types or nil }
end

-- The downbeats strata finds itself: the beat tracker (its network on the audio, madmom's
-- bar-pointer decoder, 3 or 4 beats per bar as loopextractor asks madmom) when this build has it.
function M.downbeats(strata, audio)
  if rawget(strata, "activations") and rawget(strata, "beats") then
    return audio:beats { meters = "3,4" }, "strata's beat tracker"
  end
end

-- The files of one run: loops/loop_NN.wav, stems/loop_NN.wav, beats.txt, layout.json,
-- layout.png, loops.png. where is the folder (made, with loops/ and stems/), or a function
-- from such a name without .wav ("loops/loop_01", "layout.json") to its path, whose folders
-- exist (strata unmix: strata.output_paths); save(handle, path) writes audio (default
-- handle:save(path)). Text files go through strata.write_file, as every strata output.
-- Returns the layout table written to layout.json.
function M.write(strata, run, where, extra, save)
  local function fail(message) error("strata unmix: " .. message, 0) end
  local path_of = where
  if type(where) == "string" then
    for _, sub in ipairs { "/loops", "/stems" } do -- mkdir(2), no shell: any name works
      local made, why = strata.mkdir(where .. sub)
      if not made then fail(why) end
    end
    path_of = function(name) return where .. "/" .. name .. (name:find("%.[^/]*$") and "" or ".wav") end
  end
  save = save or function(handle, path) handle:save(path) end
  local bars = run.cube.bars:samples()
  local activation, share = run.loops.activation:samples(), run.loops.share:samples()
  local instance = run.loops.instance:samples()
  local K, B = run.n_loops, run.n_bars
  local t0 = strata.now()
  local layout = { bars = {}, loops = {}, ranks = run.ranks, bars_per_unit = run.bars_per_unit, period = run.period,
                   model = run.kind, stagger = run.stagger, slice_types = run.slice_types }
  for k, v in pairs(extra or {}) do layout[k] = v end
  local started = layout.started
  layout.started = nil
  for b = 1, B do layout.bars[b] = { start = bars[2 * b - 1], ["end"] = bars[2 * b] } end
  for k = 1, K do
    local name = string.format("loop_%02d", k)
    local first, n = math.tointeger(instance[2 * k - 1]), math.tointeger(instance[2 * k])
    local start, stop = bars[2 * first + 1], bars[2 * (first + n)]
    local stem = run.stems[k]
    save(stem, path_of("stems/" .. name))
    save(stem:slice { start = start, duration = stop - start }, path_of("loops/" .. name))
    local a, s = {}, {}
    for b = 1, B do a[b], s[b] = activation[(b - 1) * K + k], share[(b - 1) * K + k] end
    layout.loops[k] = { name = name, activation = a, share = s,
                        instance = { first_bar = first, n_bars = n, start = start, ["end"] = stop } }
  end
  run.loops.activation:picture { path = path_of("layout.png"), transpose = true, cell_width = 16,
                                 cell_height = 16, gap = 0 }
  run.loops.tiles:picture { path = path_of("loops.png"), scale = "db", flip = true, rows = 160, cell_width = 2,
                            gap = 8 }
  local errors = run.model.errors:samples()
  layout.iterations, layout.final_error = #errors, errors[#errors]
  if layout.timings then -- the files (stems, loops, pictures) and the whole run so far
    layout.timings.files = strata.now() - t0
    if started then layout.timings.total = strata.now() - started end
  end
  local function write(path, text)
    local ok, why = strata.write_file(path, text)
    if not ok then fail(why) end
  end
  local lines = { "# bar starts strata unmix used (time in seconds, 1 = downbeat)" }
  for b = 1, B do lines[#lines + 1] = string.format("%.6f\t1", bars[2 * b - 1]) end
  write(path_of("beats.txt"), table.concat(lines, "\n") .. "\n")
  write(path_of("layout.json"), strata.json(layout) .. "\n")
  return layout
end

-- strata compare: K = the number of references; the oracle downbeats of the corpus (beats.txt
-- beside the mixture) when there, else the beats node when this build has one.
function M.separate(strata, mixture, refs, context)
  local downbeats, tracked
  local dir = context and context.mixture and context.mixture:match("^(.*)/[^/]*$") or "."
  local f = io.open(dir .. "/beats.txt")
  if f then
    f:close()
    downbeats = strata.load_beats(dir .. "/beats.txt")
  else
    downbeats = M.downbeats(strata, mixture)
    if not downbeats then
      error("strata compare: unmix needs downbeats: no beats.txt beside the mixture and no beat tracker", 0)
    end
    tracked = true
  end
  local run = M.build(strata, mixture, downbeats, { loops = #refs, preset = context and context.preset,
                                                    regrid = tracked })
  local out = {}
  for k = 1, run.n_loops do out[k] = run.stems[k] end
  return out
end

return M
