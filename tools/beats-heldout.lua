-- strata run tools/beats-heldout.lua DIR [MODEL ...]: the beat tracker's figures on held-out
-- generated songs (tools/train/beats_testset.py writes DIR), per soundfont and model: mean beat
-- and downbeat F-measure (mir_eval, 70 ms, untrimmed), and how often the found meter (the
-- longest bar decoded) is the song's (2/4 and 6/8 count as 4 and 12/8 read as 2 x 2: madmom's
-- default meters 3,4 give bars of 4 for them). Default settings, meter not told. MODEL: a
-- beats_tcn.safetensors ("" or none: the installed one). Generator 2's sets (beats_testset.py --generator 2)
-- are also scored by accent (down, flat, half), harmony-only songs (generator 3) and loops.
-- $STRATA_BEATS_HARMONY, when set, is the beats node's harmony weight (doc/beats.md).
local strata = require "strata"
local dir = assert(arg[1], "usage: strata run tools/beats-heldout.lua DIR [MODEL ...]")
local models = { table.unpack(arg, 2) }
if #models == 0 then models = { "" } end
local index = strata.json_decode(assert(io.open(dir .. "/index.json")):read("a"))
local expected = { [2] = 4, [3] = 3, [4] = 4 }
print("| model | soundfont | songs | beat F | downbeat F | meter right |")
print("|---|---|---|---|---|---|")
for _, model in ipairs(models) do
  local sums, order, groups = {}, {}, {}
  for _, song in ipairs(index) do
    local ref = strata.load_beats(dir .. "/" .. song.file .. ".beats")
    local est = strata.load(dir .. "/" .. song.file .. ".wav"):beats { model = model, harmony = tonumber(os.getenv("STRATA_BEATS_HARMONY") or "") }
    local _, labels = est:samples()
    local meter = 0
    for _, l in ipairs(labels) do meter = math.max(meter, l) end
    local m = strata.beat_metrics(ref, est)
    local s = sums[song.soundfont]
    if not s then
      s = { 0, 0, 0, 0 }
      sums[song.soundfont] = s
      order[#order + 1] = song.soundfont
    end
    s[1] = s[1] + m.f_measure:number()
    s[2] = s[2] + m.downbeat_f_measure:number()
    s[3] = s[3] + ((meter == expected[song.beats_per_bar]) and 1 or 0)
    s[4] = s[4] + 1
    if song.accent then -- generator 2's songs: also by how loudness relates to the bar
      local key = "accent " .. song.accent .. (song.harmony_only and ", harmony only" or "")
        .. (song.loop_bars > 0 and ", loop" or "")
      local g = sums[key]
      if not g then
        g = { 0, 0, 0, 0 }
        sums[key] = g
        groups[#groups + 1] = key
      end
      g[1] = g[1] + m.f_measure:number()
      g[2] = g[2] + m.downbeat_f_measure:number()
      g[3] = g[3] + ((meter == expected[song.beats_per_bar]) and 1 or 0)
      g[4] = g[4] + 1
    end
  end
  local all = { 0, 0, 0, 0 }
  for _, name in ipairs(order) do
    local s = sums[name]
    for k = 1, 4 do all[k] = all[k] + s[k] end
    print(string.format("| %s | %s | %d | %.3f | %.3f | %d/%d |", model == "" and "installed" or model, name, s[4],
      s[1] / s[4], s[2] / s[4], s[3], s[4]))
  end
  print(string.format("| %s | **all** | %d | %.3f | %.3f | %d/%d |", model == "" and "installed" or model, all[4],
    all[1] / all[4], all[2] / all[4], all[3], all[4]))
  table.sort(groups)
  for _, name in ipairs(groups) do
    local g = sums[name]
    print(string.format("| %s | %s | %d | %.3f | %.3f | %d/%d |", model == "" and "installed" or model, name, g[4],
      g[1] / g[4], g[2] / g[4], g[3], g[4]))
  end
end
