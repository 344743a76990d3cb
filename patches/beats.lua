-- strata beats: beats, downbeats and meter of a song (strata's TCN, madmom's bar-pointer DBN)
-- strata beats IN [-o beats.txt] [--meter 3|4|auto] [--json] [--eval REF.txt] [--activations FILE]
-- One line per beat, `time<TAB>position_in_bar`.
local strata = require "strata"

local command = "strata beats"
local opt = strata.args {
  usage = "IN [-o beats.txt] [--meter 3|4|auto] [--json] [--eval REF.txt] [--activations FILE]",
  doc = "Track the beats and downbeats of IN: strata's network (a small TCN, see doc/beats.md) gives\n" ..
        "beat and downbeat activations, madmom's bar-pointer DBN decodes them, one model per\n" ..
        "candidate meter, the most probable kept. Writes one line per beat,\n" ..
        "`time_seconds<TAB>position_in_bar` (1 = downbeat), to -o or to the standard output, and\n" ..
        "prints the tempo and the meter (on the standard error when the beats go to the standard\n" ..
        "output). --activations decodes a file of activations (madmom's format: 100 rows per\n" ..
        "second, columns beat and downbeat) made for IN.",
  positional = { { "input", "the audio file" } },
  options = {
    { "o", "", "write the beats to this file instead of the standard output" },
    { "output", "", "the same as -o" },
    { "meter", "auto", "beats per bar: a number, a list such as 3,4, or auto (3,4)" },
    { "activations", "", "decode this activation file (madmom's text format) for IN" },
    { "min-bpm", 55, "slowest tempo", param = "beats.min_bpm" },
    { "max-bpm", 215, "fastest tempo", param = "beats.max_bpm" },
    { "harmony", -1, "how much the bar's phase trusts chord changes (the beats node's harmony; 0: off; -1: its default)",
      param = "beats.harmony" },
    { "json", false, "print one JSON object (tempo, meter, beats) instead of text" },
    { "eval", "", "score the beats against this reference beat file (mir_eval conventions)" },
  },
}

local meters = opt.meter == "auto" and "3,4" or opt.meter
if not meters:match("^%s*%d+%s*[%d,%s]*$") then
  strata.usage_error(command, string.format("--meter wants a number, a list such as 3,4, or auto, not '%s'", opt.meter))
end
local out_path = opt.o ~= "" and opt.o or opt.output
-- each tempo is in the beats node's range: strata.args checks it (param = "beats.min_bpm")
if opt.min_bpm >= opt.max_bpm then
  strata.usage_error(command, string.format("--min-bpm %s is not below --max-bpm %s", opt.min_bpm, opt.max_bpm))
end
local harmony = opt.harmony >= 0 and opt.harmony or nil -- its range: strata.args (param = "beats.harmony")

if out_path ~= "" then strata.check_output(command, out_path) end -- before the work, not after it
local song = strata.load(opt.input)
song:eval() -- a missing or unreadable IN is reported as such
local est = song:beats { activations = opt.activations ~= "" and opt.activations or "tcn", meters = meters,
  min_bpm = opt.min_bpm, max_bpm = opt.max_bpm, harmony = harmony }
local times, positions = est:samples()
if #times < 2 then
  io.stderr:write(string.format("%s: %s: no steady beat found\n", command, opt.input))
  os.exit(1)
end

-- tempo from the median beat interval; meter from the longest bar seen
local intervals = {}
for i = 2, #times do intervals[#intervals + 1] = times[i] - times[i - 1] end
table.sort(intervals)
local median = intervals[(#intervals + 1) // 2]
if #intervals % 2 == 0 then median = 0.5 * (intervals[#intervals // 2] + intervals[#intervals // 2 + 1]) end
local tempo, meter = 60 / median, 0
for _, p in ipairs(positions) do meter = math.max(meter, p) end

local lines = {}
for i = 1, #times do lines[i] = string.format("%.3f\t%d\n", times[i], positions[i]) end
if out_path ~= "" then -- as every strata output: a temporary file beside it, renamed
  local ok, why = strata.write_file(out_path, table.concat(lines))
  if not ok then error(string.format("%s: %s", command, why), 0) end
end

local scores
if opt.eval ~= "" then
  local m = strata.beat_metrics(strata.load_beats(opt.eval), est)
  scores = {}
  for _, k in ipairs { "f_measure", "cemgil", "p_score", "cmlt", "amlt", "information_gain", "downbeat_f_measure" } do
    scores[k] = m[k]:number()
  end
end

if opt.json then
  local beats = {}
  for i = 1, #times do beats[i] = { time = times[i], position = positions[i] } end
  print(strata.json { tempo_bpm = tempo, meter = meter, n_beats = #times, beats = beats, scores = scores })
else
  local summary = string.format("%d beats, tempo %.1f BPM, meter %d beats per bar", #times, tempo, meter)
  if out_path == "" then
    io.write(table.concat(lines))
    io.stderr:write(summary .. "\n")
  else
    print(summary .. ", written to " .. out_path)
  end
  if scores then
    local out = out_path == "" and io.stderr or io.stdout
    for _, r in ipairs { { "f_measure", "Beat F-measure" }, { "downbeat_f_measure", "Downbeat F-measure" },
      { "cemgil", "Cemgil" }, { "p_score", "P-score" }, { "cmlt", "CMLt" }, { "amlt", "AMLt" },
      { "information_gain", "Information gain" } } do
      out:write(string.format("%-20s %.4f\n", r[2], scores[r[1]]))
    end
  end
end
