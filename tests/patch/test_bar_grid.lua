-- bar_grid: a tracker's beats with the usual errors (the downbeat a beat late, the tempo doubled
-- halfway, the wrong meter, jitter) give back the song's own bar grid, from the song's repetition:
-- every true downbeat within a frame, no other, the bar length within 0.1 %.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local dir = t.tmpdir()
local hop_s = 512 / 44100

-- beats (time, label) written to a file and read back as events
local function events(name, beats)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  for _, b in ipairs(beats) do f:write(string.format("%.6f\t%d\n", b[1], b[2])) end
  f:close()
  return strata.load_beats(path)
end

-- every downbeat found is within a frame of a true one, and every true one after the first has
-- one (the first, at 0 s, may fall a fraction of a frame before the song and be left out)
local function check_grid(name, grid, bar_s, n_bars, beats_per_bar)
  local times, labels = grid.downbeats:samples()
  local found = {}
  for i = 1, #times do if labels[i] == 1 then found[#found + 1] = times[i] end end
  local worst, missed = 0, 0
  for b = 1, n_bars - 1 do
    local best = math.huge
    for _, x in ipairs(found) do best = math.min(best, math.abs(x - b * bar_s)) end
    if best > hop_s then missed = missed + 1 end
  end
  for _, x in ipairs(found) do
    local b = math.floor(x / bar_s + 0.5)
    worst = math.max(worst, math.abs(x - b * bar_s))
  end
  local choice = grid.choice:samples()
  t.check(name .. ": every downbeat within a frame",
    missed == 0 and worst <= hop_s and (#found == n_bars or #found == n_bars - 1),
    string.format("%d of %d missed, worst %.3f s off, %d found", missed, n_bars, worst, #found))
  t.check(name .. ": the bar length", math.abs(choice[1] - bar_s) < 1e-3 * bar_s and choice[3] == beats_per_bar,
    string.format("%.4f s, %d beats (true %.4f s, %d)", choice[1], choice[3], bar_s, beats_per_bar))
end

for _, case in ipairs { { tempo = 100, meter = 4 }, { tempo = 132, meter = 3 } } do
  local bars, m = 16, case.meter
  local beat_s = 60 / case.tempo
  local bar_s = beat_s * m
  local song = strata.testsong { bars = bars, tempo = case.tempo, beats_per_bar = m, arrangement = "loops" }
  local spec = song.mixture:stft { n_fft = 2048, hop = 512 }
  local label = string.format("%d BPM %d/4", case.tempo, m)
  -- the downbeat a beat late: every label moved on by one
  local late = {}
  for i = 0, bars * m - 1 do late[#late + 1] = { i * beat_s, (i - 1) % m + 1 } end
  check_grid(label .. ", downbeat a beat late", spec:bar_grid(events("late.txt", late)), bar_s, bars, m)
  -- the tempo doubled from the middle on, counted in the tracker's bars of m of its beats
  local doubled, n = {}, 0
  for i = 0, bars * m - 1 do
    local halves = i < bars * m / 2 and 1 or 2
    for h = 0, halves - 1 do
      doubled[#doubled + 1] = { (i + h / 2) * beat_s, n % m + 1 }
      n = n + 1
    end
  end
  check_grid(label .. ", tempo doubled halfway", spec:bar_grid(events("doubled.txt", doubled)), bar_s, bars, m)
  -- the other meter (3 for 4, 4 for 3), beats jittered by up to 10 ms
  local other, wrong = m == 4 and 3 or 4, {}
  for i = 0, bars * m - 1 do wrong[#wrong + 1] = { i * beat_s + 0.010 * math.sin(i * 1.7), i % other + 1 } end
  check_grid(label .. ", wrong meter and jitter", spec:bar_grid(events("wrong.txt", wrong)), bar_s, bars, m)
end

-- too few beats: one line
local song = strata.testsong { bars = 4, tempo = 120 }
local spec = song.mixture:stft { n_fft = 2048, hop = 512 }
t.raises("too few beats", function()
  spec:bar_grid(events("few.txt", { { 0, 1 }, { 0.5, 2 }, { 1, 3 } })).downbeats:eval()
end, "too few")
os.execute("rm -rf '" .. dir .. "'")
