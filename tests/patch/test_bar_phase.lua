-- The beats node's bar phase from harmony (dsp/bar_phase.c, doc/beats.md): a song whose only
-- bar cue is its harmony (the same chord stroke on every beat, the chord changing on bar lines)
-- gets its downbeats with the stage and not without it; the stage only renumbers the decoder's
-- beats; harmony = 0 is the decoder's bar.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

-- 4/4 at 90 BPM, 16 bars of I vi IV V in C: on every beat one stroke of the bar's triad (octave
-- 4) and its root (octave 2), three harmonics each, all at one loudness and decay
local rate, bpm, bars = 22050, 90, 16
local beat_n = math.floor(rate * 60 / bpm + 0.5)
local chords = { { 60, 64, 67, 36 }, { 57, 60, 64, 33 }, { 53, 57, 60, 29 }, { 55, 59, 62, 31 } }
local strokes = {}
for c, notes in ipairs(chords) do
  local s = {}
  for i = 1, beat_n do
    local time, v = (i - 1) / rate, 0
    for _, m in ipairs(notes) do
      local w = 2 * math.pi * 440 * 2 ^ ((m - 69) / 12) * time
      v = v + math.sin(w) + 0.5 * math.sin(2 * w) + 0.25 * math.sin(3 * w)
    end
    s[i] = string.pack("<i2", math.floor(0.08 * math.exp(-time / 0.25) * v * 32767))
  end
  strokes[c] = table.concat(s)
end
local parts, ref = {}, {}
for bar = 0, bars - 1 do
  for b = 1, 4 do
    ref[#ref + 1] = string.format("%.4f\t%d\n", ((bar * 4 + b - 1) * beat_n) / rate, b)
    parts[#parts + 1] = strokes[bar % #chords + 1]
  end
end
local data = table.concat(parts)
local dir = t.tmpdir()
local f = assert(io.open(dir .. "/song.wav", "wb"))
f:write("RIFF", string.pack("<I4", 36 + #data), "WAVEfmt ",
  string.pack("<I4I2I2I4I4I2I2", 16, 1, 1, rate, rate * 2, 2, 16), "data", string.pack("<I4", #data), data)
f:close()
f = assert(io.open(dir .. "/song.beats", "w"))
f:write(table.concat(ref))
f:close()
local song, reference = strata.load(dir .. "/song.wav"), strata.load_beats(dir .. "/song.beats")

local with, without = song:beats(), song:beats { harmony = 0 }
local m_with, m_without = strata.beat_metrics(reference, with), strata.beat_metrics(reference, without)
t.check("bar phase: the beats are found", m_with.f_measure:number() >= 0.95, m_with.f_measure:number())
t.check("bar phase: harmony-only song, downbeats right with the stage (F >= 0.9)",
  m_with.downbeat_f_measure:number() >= 0.9, m_with.downbeat_f_measure:number())
t.check("bar phase: and wrong without it (harmony = 0: F <= 0.1)", m_without.downbeat_f_measure:number() <= 0.1,
  m_without.downbeat_f_measure:number())

-- the stage renumbers the decoder's beats and nothing else: the same times, the same turn of the
-- bar for every beat
local t1, l1 = with:samples()
local t0, l0 = without:samples()
local same, turn = #t1 == #t0, nil
for i = 1, math.min(#t1, #t0) do
  if t1[i] ~= t0[i] then same = false end
  local d = (l1[i] - l0[i]) % 4
  if turn == nil then turn = d elseif d ~= turn then same = false end
end
t.check("bar phase: same beat times, every label turned alike", same and turn ~= 0, tostring(turn))

-- the decoder's bar has the most downbeat evidence of every turn (dsp/bar_phase.h), so a
-- vanishing weight keeps it: the stage at harmony 1e-9 gives the events of harmony = 0 (the
-- decoder's own; this fails if the evidence summed the wrong frames)
local t2, l2 = song:beats { harmony = 1e-9 }:samples()
local equal = #t2 == #t0
for i = 1, math.min(#t2, #t0) do
  if t2[i] ~= t0[i] or l2[i] ~= l0[i] then equal = false end
end
t.check("bar phase: a vanishing weight keeps the decoder's beats and bar", equal, #t2 .. " / " .. #t0)

t.raises("bar phase: harmony must not be negative", function() song:beats { harmony = -1 } end, "harmony")
os.execute("rm -rf '" .. dir .. "'")
