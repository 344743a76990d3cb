-- strata run tools/beats-pulse.lua NEGATIVES_DIR SONGS_DIR [MODEL]: the numbers the beats node's
-- no-steady-beat rule looks at (doc/beats.md), for sounds without a beat (strata's test signals
-- and the clips of tools/train/beats_negatives.py in NEGATIVES_DIR) and for held-out generated
-- songs (tools/train/beats_testset.py's SONGS_DIR): the pulse strength (mean activation, beat +
-- downbeat, at the decoded beats without their strongest tenth) and the contrast (strength / mean
-- activation over all frames). min_strength and min_contrast are chosen between the two groups;
-- the corpus plays no part.
local strata = require "strata"
local neg_dir, song_dir = assert(arg[1]), assert(arg[2])
local model = arg[3] or ""

local function pulse(audio)
  local act = audio:activations { model = model }
  local a = act:samples()
  local times = act:beats { min_strength = 0, min_contrast = 0 }:samples()
  local n = #a // 2
  if #times == 0 then return nil end
  local v = {}
  for i, t in ipairs(times) do
    local f = math.floor(t * 100 + 0.5)
    v[i] = a[2 * f + 1] + a[2 * f + 2]
  end
  table.sort(v)
  local keep = math.max(1, #v - (#v + 9) // 10)
  local s = 0
  for i = 1, keep do s = s + v[i] end
  local strength, all = s / keep, 0
  for i = 1, 2 * n do all = all + a[i] end
  return strength, all > 0 and strength / (all / n) or 0
end

local function list(dir, pattern)
  local out = {}
  for _, name in ipairs(assert(strata.files(dir))) do
    if name:match(pattern) then out[#out + 1] = dir .. "/" .. name end
  end
  return out
end

local rows = {}
local function add(group, name, audio)
  local s, c = pulse(audio)
  rows[#rows + 1] = { group, name, s, c }
  print(string.format("%-9s %-40s strength %s contrast %s", group, name, s and string.format("%.3f", s) or "-",
    c and string.format("%.1f", c) or "-"))
end
for _, kind in ipairs { "silence", "noise", "chirp", "sine" } do
  add("no beat", kind, strata.signal { kind = kind, seconds = 8, freq = 100, freq_end = 8000 })
end
for _, path in ipairs(list(neg_dir, "%.wav$")) do add("no beat", path:match("[^/]+$"), strata.load(path)) end
for _, path in ipairs(list(song_dir, "%.wav$")) do add("song", path:match("[^/]+$"), strata.load(path)) end
for _, group in ipairs { "no beat", "song" } do
  local smax, cmax, smin, cmin = 0, 0, math.huge, math.huge
  for _, r in ipairs(rows) do
    if r[1] == group and r[3] then
      smax, cmax = math.max(smax, r[3]), math.max(cmax, r[4])
      smin, cmin = math.min(smin, r[3]), math.min(cmin, r[4])
    end
  end
  print(string.format("%s: strength %.3f .. %.3f, contrast %.1f .. %.1f", group, smin, smax, cmin, cmax))
end
