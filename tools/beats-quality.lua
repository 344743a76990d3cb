-- strata run tools/beats-quality.lua [CORPUS [MODEL]]: the beat tracker's figures for doc/beats.md
-- (MODEL: a beats_tcn.safetensors to try; none or "": the installed one).
-- Every item of CORPUS/downbeat (real recordings, human annotations) and the separation items
-- with an exact beats.txt, tracked with the default settings (meter not told), scored as
-- mir_eval does (F-measure within 70 ms; untrimmed, and trimmed: beats before 5 s ignored).
-- $STRATA_BEATS_HARMONY, when set, is the beats node's harmony weight (doc/beats.md).
local strata = require "strata"
local root = (arg[1] ~= nil and arg[1] ~= "") and arg[1] or os.getenv("STRATA_CORPUS") or "../shared/corpus"
local model = arg[2] or ""
local items = {
  { "downbeat/ballroom_Media-105901.flac", "downbeat/ballroom_Media-105901.beats", "ballroom waltz", 3 },
  { "downbeat/gtzan_country.00000.flac", "downbeat/gtzan_country.00000.beats", "gtzan country", 4 },
  { "downbeat/tbd_easy_example.flac", "downbeat/tbd_easy_example.beats", "tbd easy", 4 },
  { "downbeat/tbd_expressive_example.flac", "downbeat/tbd_expressive_example.beats", "tbd expressive", 2 },
  { "downbeat/tbd_nonwestern_example.flac", "downbeat/tbd_nonwestern_example.beats", "tbd non-western", 4 },
  { "downbeat/jtd_barronk.flac", "downbeat/jtd_barronk.beats", "jtd jazz trio", 4 },
  { "downbeat/madmom_sample.flac", "downbeat/madmom_sample.beats", "madmom sample", 4 },
  { "separation/fluidsynth_4stem/mixture.wav", "separation/fluidsynth_4stem/beats.txt", "fluidsynth_4stem", 4, sep = true },
  { "separation/sonicpi_97bpm_loops/mixture.wav", "separation/sonicpi_97bpm_loops/beats.txt", "sonicpi_97bpm_loops", 4, sep = true },
}
print("| item | true meter | found meter | beat F | downbeat F | beat F (trimmed) | downbeat F (trimmed) | seconds |")
print("|---|---|---|---|---|---|---|---|")
local sums = { real = { 0, 0, 0, 0, 0 }, sep = { 0, 0, 0, 0, 0 } }
for _, it in ipairs(items) do
  local ref = strata.load_beats(root .. "/" .. it[2])
  local t0 = strata.now()
  local est = strata.load(root .. "/" .. it[1]):beats { model = model, harmony = tonumber(os.getenv("STRATA_BEATS_HARMONY") or "") }
  local _, labels = est:samples()
  local seconds = strata.now() - t0
  local meter = 0
  for _, l in ipairs(labels) do meter = math.max(meter, l) end
  local m = strata.beat_metrics(ref, est)
  local mt = strata.beat_metrics(ref, est, { trim = true })
  local row = { m.f_measure:number(), m.downbeat_f_measure:number(), mt.f_measure:number(),
    mt.downbeat_f_measure:number() }
  local s = it.sep and sums.sep or sums.real
  for k = 1, 4 do s[k] = s[k] + row[k] end
  s[5] = s[5] + 1
  print(string.format("| %s | %d | %d | %.3f | %.3f | %.3f | %.3f | %.2f |", it[3], it[4], meter, row[1], row[2],
    row[3], row[4], seconds))
end
for _, k in ipairs { "real", "sep" } do
  local s = sums[k]
  print(string.format("| **mean, %s** | | | %.3f | %.3f | %.3f | %.3f | |",
    k == "real" and "7 real recordings" or "separation items", s[1] / s[5], s[2] / s[5], s[3] / s[5], s[4] / s[5]))
end
