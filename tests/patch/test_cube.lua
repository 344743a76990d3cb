-- cube and uncube: the cube holds the song's own frames bar by bar, uncube
-- gives them back exactly (pad and warp), partial bars before the first and
-- after the last downbeat are kept, and bad downbeats are refused in one line.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local dir = t.tmpdir()
local function beats_file(name, lines)
  local path = dir .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  return strata.load_beats(path)
end

-- a 4-bar song at 120 BPM (2 s bars) without its first 0.3 s: a partial
-- first bar, then three whole bars
local song = strata.testsong { bars = 4, tempo = 120 }
local audio = song.mixture:slice { start = 0.3 }
local spec = audio:stft { n_fft = 1024, hop = 256 }
local lines = {}
for b = 1, 3 do lines[#lines + 1] = string.format("%.6f 1", 2 * b - 0.3) end
local downbeats = beats_file("grid.txt", lines)
local mags = spec:magnitude():samples()

local function same(a, b)
  if #a ~= #b then return false, string.format("%d vs %d elements", #a, #b) end
  for i = 1, #a do
    if a[i] ~= b[i] then return false, string.format("element %d: %g vs %g", i, a[i], b[i]) end
  end
  return true
end

for _, align in ipairs { "pad", "warp" } do
  local c = spec:cube(downbeats, { align = align })
  local facts = c.cube:eval()
  t.check(align .. ": a partial bar and three whole ones", facts.shape[3] == 4, table.concat(facts.shape, " x "))
  local ok, why = same(strata.uncube(c.cube, c.frames):samples(), mags)
  t.check(align .. ": uncube(cube) is the spectrogram, exactly", ok, why)
end

-- units of two bars: every second downbeat from the first (1.7 and 5.7 s): a partial unit
-- before, one whole, a half one after
local units = spec:cube(downbeats, { bars_per_unit = 2 })
local unit_shape = units.cube:eval().shape
t.check("two-bar units", unit_shape[3] == 3 and unit_shape[2] >= 2 * 344,
  table.concat(unit_shape, " x "))
local ok2, why2 = same(strata.uncube(units.cube, units.frames):samples(), mags)
t.check("two-bar units: uncube(cube) is the spectrogram, exactly", ok2, why2)

-- a tracker that misses the first downbeat (2, 4, 6 s of a song that starts on a bar): two-bar
-- units still start at 0 s, where the music's do
local whole = strata.testsong { bars = 4, tempo = 120 }.mixture:stft { n_fft = 1024, hop = 256 }
local late = whole:cube(beats_file("late_first.txt", { "2 1", "4 1", "6 1" }), { bars_per_unit = 2 })
local late_bars = late.bars:samples()
t.check("two-bar units keep the music's phase", #late_bars == 4 and late_bars[3] == 4,
  table.concat(late_bars, " "))

-- similarity: an 8-bar song on a four-chord progression is most like itself four bars later
local full = strata.testsong { bars = 8, tempo = 240, arrangement = "full" }
local sim = full.mixture:stft { n_fft = 1024, hop = 256 }:cube(full.beats).similarity:samples()
t.check("bars repeat best at the progression's length", sim[4] > sim[1] and sim[4] > sim[2] and sim[4] > sim[3],
  table.concat(sim, " "))
t.check("lags beyond the song are 0", sim[8] == 0, sim[8])

-- the partial first bar is aligned to its end: its last frame sits where a
-- whole bar's last frame does
local c = spec:cube(downbeats)
local frames, shape = c.frames:samples(), c.cube:eval().shape
local n_time = shape[2]
local first_bar_end = 0
for i = 1, #frames, 2 do
  if frames[i] == 0 then first_bar_end = math.max(first_bar_end, frames[i + 1]) end
end
t.check("a partial first bar ends where bars end", first_bar_end >= n_time - 2,
  string.format("its last frame at %d of %d", first_bar_end, n_time))
local bars = c.bars:samples()
t.check("bars cover the song", bars[1] == 0 and math.abs(bars[#bars] - audio:eval().duration) < 1e-4,
  string.format("%g .. %g", bars[1], bars[#bars]))
t.check("bar two starts on the first downbeat", math.abs(bars[3] - 1.7) < 1e-5, bars[3])

-- a stack of cubes comes back as a stack of (channel, time, freq) masks
local stack = strata.uncube(c.cube, c.frames):eval()
t.check("uncube of one cube has the spectrogram's shape", stack.shape[1] == 1 and stack.shape[3] == 513,
  table.concat(stack.shape, " x "))

-- bad downbeats: one line each
t.raises("unsorted downbeats", function()
  spec:cube(beats_file("unsorted.txt", { "1.7 1", "5.7 1", "3.7 1" })):eval()
end, "comes before the previous beat")
t.raises("empty downbeats", function() spec:cube(beats_file("empty.txt", { "# nothing" })):eval() end,
  "none given")
t.raises("downbeats beyond the end", function()
  spec:cube(beats_file("late.txt", { "1.7 1", "3.7 1", "30 1" })):eval()
end, "beyond the end of the audio")
t.raises("no downbeat label", function()
  spec:cube(beats_file("beats.txt", { "1.7 2", "2.2 3" })):eval()
end, "labelled 1")
local short = song.mixture:slice { duration = 2.5 }:stft { n_fft = 1024, hop = 256 }
t.raises("a song shorter than two bars", function()
  short:cube(beats_file("short.txt", { "0 1", "2 1" })):eval()
end, "shorter than two bars")
os.execute("rm -rf '" .. dir .. "'")
