-- strata unmix: the loops of a song and where they play (loop extraction, one stem per loop)
-- strata unmix IN... -o DIR [--loops K] [--ranks F,T,L] [--bars-per-loop N] [--downbeats FILE]
--   [--mask unmixer|wiener] [--iterations N] [--seed S]: the loops of a song and where they play.
local strata = require "strata"

local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local method = dofile(here .. "/methods/unmix.lua")

local opt = strata.args {
  usage = "IN... -o DIR [--loops K] [--ranks F,T,L] [--bars-per-loop N] [--downbeats FILE]\n" ..
          "       [--mask unmixer|wiener] [--iterations N] [--seed S] [--preset strata|smith2018]\n" ..
          "       [--grid repetition|tracker] [--period N] [--group correlation|energy|sound] [--model parts|tucker|cycle] [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Find the loops a song is built from and where each plays (the Unmixer, Smith, Kawasaki &\n" ..
        "Goto 2019; Smith & Goto 2018): cut the song's spectrogram at its downbeats into a cube\n" ..
        "(frequency x time in bar x bar), model it with a non-negative Tucker decomposition,\n" ..
        "re-factorise its loop types into parts and join parts that sound alike into loops\n" ..
        "(--model parts, the default; --model tucker: one loop type per loop), and\n" ..
        "write into DIR (created): loops/loop_NN.wav (one seamless instance of each loop, cut at\n" ..
        "bar lines), stems/loop_NN.wav (each loop over the whole song, same channels and rate as\n" ..
        "IN), beats.txt (the bar starts used), layout.json (bars, each loop's activation per bar,\n" ..
        "its instance, ranks, iterations, error, timings), layout.png (loops x bars) and\n" ..
        "loops.png (a spectrogram tile per loop). With several inputs each gets a folder of its\n" ..
        "own (DIR/NAME/loops/...); --filename names the files ({stem} is loops/loop_01,\n" ..
        "stems/loop_01, layout, ...). See doc/unmix.md.",
  positional = { { "input", "the songs", many = true } },
  writes = "audio",
  options = {
    { "loops", 0, "exactly this many loops (0: chosen from the song, printed)", param = "loops.loops" },
    { "ranks", "", "F,T,L: sound, rhythm and loop-type ranks of the model (default 16,16,2K; smith2018: 32,40,K)" },
    { "bars-per-loop", 1, "slices in each written loop", param = "loops.bars_per_loop" },
    { "bars-per-unit", -1, "bars per slice of the cube (0: 1 or 2, chosen from the song; -1: 1 with --model parts, else the preset's)", param = "cube.bars_per_unit", unset = { 0 } },
    { "downbeats", "", "a beat file (time and bar position per line; 1 = downbeat)" },
    { "mask", "", "unmixer (soft mask against the mixture) or wiener (masks sum to one)" },
    { "iterations", 0, "NTD iterations at most (0: the preset's)", param = "ntd.iterations" },
    { "seed", 0, "0: SVD start; above 0: a seeded random start", param = "ntd.seed" },
    { "preset", "strata", "strata (default) or smith2018 (the published configuration)" },
    { "refine", -1, "KL refinement updates of the loop templates (-1: the preset's)", param = "loops.refine" },
    { "align", "pad", "bars of unequal length: pad (zeros at the end) or warp" },
    { "grid", "repetition", "the tracker's bars: repetition (checked against the song's, bar_grid) or tracker" },
    { "period", -1, "slices in a loop's cycle, with --model tucker or cycle: one template per phase (0: 1 or 2, chosen from the song; -1: the preset's, 1)", param = "ntd.period", unset = { 0 } },
    { "group", "", "how loop types (or parts) are joined: correlation (of their activations; --model tucker's default), energy (least lost) or sound (alike envelopes, spent apart; --model parts' default)" },
    { "model", "", "parts (the default: the loop types re-factorised into parts, each loop a sum of parts that sound alike; one-bar slices unless --bars-per-unit), tucker (a loop type is one slice's template: the earlier default, and smith2018's) or cycle (a loop type owns a cycle of --period slices: a template per phase, one activation per cycle; period chosen from the song unless given)" },
  },
}
local command = opt.command
local function fail(message) strata.usage_error(command, message) end
if opt.mask ~= "" and opt.mask ~= "wiener" and opt.mask ~= "unmixer" then
  fail(string.format("--mask is unmixer or wiener, not '%s'", opt.mask))
end
if opt.group ~= "" and opt.group ~= "correlation" and opt.group ~= "energy" and opt.group ~= "sound" then
  fail(string.format("--group is correlation, energy or sound, not '%s'", opt.group))
end
if opt.model ~= "" and opt.model ~= "tucker" and opt.model ~= "cycle" and opt.model ~= "parts" then
  fail(string.format("--model is parts, tucker or cycle, not '%s'", opt.model))
end
if not method.presets[opt.preset] then fail(string.format("--preset is strata or smith2018, not '%s'", opt.preset)) end
local model = opt.model ~= "" and opt.model or method.presets[opt.preset].model
if model == "cycle" and opt.group ~= "" and opt.group ~= "correlation" then
  fail("--group " .. opt.group .. " takes --model tucker or parts")
end
if model == "parts" and opt.period > 1 then
  fail("--model parts (the default) takes no --period: a loop's variations are its parts; --model tucker takes it")
end
if opt.grid ~= "repetition" and opt.grid ~= "tracker" then
  fail(string.format("--grid is repetition or tracker, not '%s'", opt.grid))
end
-- --loops, --bars-per-loop, --bars-per-unit, --iterations, --seed, --refine and --period are
-- checked by strata.args against the node parameters they feed (param = ...)
local ranks
if opt.ranks ~= "" then
  ranks = {}
  for r in opt.ranks:gmatch("[^,]+") do ranks[#ranks + 1] = math.tointeger(tonumber(r)) end
  if #ranks ~= 3 or not (ranks[1] and ranks[2] and ranks[3]) or ranks[1] < 1 or ranks[2] < 1 or ranks[3] < 1 then
    fail(string.format("--ranks wants three whole numbers F,T,L from 1, not '%s'", opt.ranks))
  end
end

if opt.downbeats ~= "" and #opt.input > 1 then fail("--downbeats gives the bars of one song: one IN with it") end
-- the files every run writes; the loops are known once the model is
local files = { "beats.txt", "layout.json", "layout.png", "loops.png", "loops/loop_01", "stems/loop_01" }
strata.output_paths(opt, opt.input, files, 0) -- two songs writing one file, a bad input: refused before any work
if opt.downbeats ~= "" then strata.load_beats(opt.downbeats):compute() end -- and a bad beat file

local stale = {} -- an earlier run's loops beyond this run's count, removed once all succeed
for i, input in ipairs(opt.input) do
  local t0 = strata.now()
  local audio = strata.load(input)
  local facts = audio:eval()
  local downbeats, source
  if opt.downbeats ~= "" then
    downbeats, source = strata.load_beats(opt.downbeats), opt.downbeats
  else
    downbeats, source = method.downbeats(strata, audio)
    if not downbeats then
      error(command .. ": this build has no downbeat tracker yet; give the bars with --downbeats FILE", 0)
    end
    -- silence, noise or a held sound (the tracker gives no beats), or a clip too short for two
    -- bars (bar_grid needs 6 beats): say which for this file, in one line, before the bars are sought
    local n_beats = #downbeats:samples()
    if n_beats == 0 then
      error(string.format("%s: %s: no steady beat found; give the bars with --downbeats FILE", command, input), 0)
    elseif n_beats < 6 then
      error(string.format("%s: %s: too short: %d beats found, at least 6 (two bars) needed; give the bars with " ..
        "--downbeats FILE", command, input, n_beats), 0)
    end
    if opt.grid == "repetition" then source = source .. ", bar grid checked against the song's repetition" end
  end
  local regrid = opt.downbeats == "" and opt.grid == "repetition"

  local timings = {}
  local function timed(name, fn)
    local t = strata.now()
    local r = fn()
    timings[name] = strata.now() - t
    return r
  end
  local run = timed("model", function()
    local r = method.build(strata, audio, downbeats, {
      loops = opt.loops, ranks = ranks, preset = opt.preset, mask = opt.mask ~= "" and opt.mask or nil,
      iterations = opt.iterations > 0 and opt.iterations or nil, seed = opt.seed,
      refine = opt.refine >= 0 and opt.refine or nil, bars_per_loop = opt.bars_per_loop,
      bars_per_unit = opt.bars_per_unit >= 0 and opt.bars_per_unit or nil,
      period = opt.period >= 0 and opt.period or nil, group = opt.group ~= "" and opt.group or nil, model = model,
      align = opt.align, print = print, regrid = regrid,
    })
    r.model.core:compute()
    r.loops.activation:compute()
    return r
  end)
  local name = #opt.input > 1 and input .. ": " or ""
  if run.grid then -- what the repetition made of the tracker's bars
    local c = run.grid.choice:samples()
    if c[4] == 1 then
      print(string.format("%s: %sthe tracker's tempo changes and the song's repetition agrees; its bars are used as they are",
        command, name))
    else
      print(string.format("%s: %sbars of %.3f s (%d beats) from the song's repetition, the first at %.3f s", command,
        name, c[1], math.tointeger(c[3]) or 0, c[2]))
    end
  end
  if opt.loops == 0 then
    -- the parts model's loops are groups of parts, not the NTD's loop types (--ranks' L)
    print(string.format("%s: %s%d %s found in %d bars", command, name, run.n_loops,
      run.kind == "parts" and "loops" or "loop types", run.n_bars))
  end

  local stems = { table.unpack(files, 1, 4) }
  for k = 1, run.n_loops do
    stems[#stems + 1] = string.format("loops/loop_%02d", k)
    stems[#stems + 1] = string.format("stems/loop_%02d", k)
  end
  local paths = strata.output_paths(opt, opt.input, stems, i)
  local layout = method.write(strata, run, function(stem) return paths[stem] end, {
    downbeats = source, preset = opt.preset, sample_rate = facts.rate, channels = facts.channels,
    timings = timings, started = t0,
  }, function(handle, path) strata.write_audio(opt, handle, path) end)
  for _, folder in ipairs { "loops", "stems" } do
    stale[#stale + 1] = { i, function(k) return string.format("%s/loop_%02d", folder, k) end, run.n_loops + 1 }
  end
  timings.total = strata.now() - t0
  local where = paths["layout.json"]:match("^(.*/)[^/]*$")
  print(string.format("%s: %s%d loops over %d bars in %.2f s (model %d iterations, error %.4f)",
    command, name, run.n_loops, run.n_bars, timings.total, layout.iterations, layout.final_error))
  strata.note_written("wrote %s", where) -- once every input has succeeded and the files are in place
end
strata.remove_stale(opt, opt.input, stale)
