-- repet_pitch (REPET whose model leaves out the lead's harmonics) on a synthetic song with
-- known stems: better than repet's refine on the lead and the rest, masks in [0, 1], the two
-- spectra sum to the mixture, a pitch in range where a lead is found, one mask per channel.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

-- 16 bars at 155 BPM: drums repeat every bar, bass and chords every four bars (6.2 s, the
-- period), the lead never
local song = strata.testsong { bars = 16, tempo = 155, seed = 12 }
local rest = song.drums + song.bass + song.chords
local spec = song.mixture:stft { n_fft = 2048, hop = 512 }
local function scores(parts)
  local s = strata.bsseval(strata.list { song.lead, rest }, strata.list { parts.foreground:istft(), parts.background:istft() })
  return s.sdr:samples()
end
local r = spec:repet_pitch {}
local got = scores(r)
local before = scores(spec:repet { refine = 1, max_period = 12 })
print(string.format("# repet_pitch: lead %.2f, rest %.2f dB; repet refine: %.2f, %.2f", got[1], got[2], before[1], before[2]))
t.check("repet_pitch: lead above repet's refine", got[1] > before[1] + 0.3, string.format("%.2f against %.2f", got[1], before[1]))
t.check("repet_pitch: rest above repet's refine", got[2] > before[2] + 0.3, string.format("%.2f against %.2f", got[2], before[2]))
t.check("repet_pitch: mean SDR above 11.5 dB", (got[1] + got[2]) / 2 > 11.5, (got[1] + got[2]) / 2)

-- its first step is repet's refine: with no lead ever marked (voicing 1), the mask is that one
do
  local none = spec:repet_pitch { voicing = 1 }.mask:samples()
  local refine = spec:repet { refine = 1, max_period = 12 }.mask:samples()
  local worst = #none == #refine and 0 or math.huge
  for i = 1, math.min(#none, #refine) do worst = math.max(worst, math.abs(none[i] - refine[i])) end
  t.check("repet_pitch with no lead marked is repet's refine, bit for bit", worst == 0, worst)
end

local m = r.mask:eval()
local lo, hi = math.huge, -math.huge
for _, v in ipairs(r.mask:samples()) do lo, hi = math.min(lo, v), math.max(hi, v) end
t.check("repet_pitch: mask in [0, 1]", lo >= 0 and hi <= 1, string.format("[%g, %g]", lo, hi))
local back = (r.background:istft() + r.foreground:istft() - song.mixture):eval().peak
t.check("repet_pitch: background + foreground = mixture", back < 1e-4, back)
t.check("repet_pitch: the period is four bars", math.abs(r.period:number() - 4 * 4 * 60 / 155) < 0.05, r.period:number())

-- the pitch: 0 where no lead, else within the range searched; the lead plays most of the song
local f0 = r.f0:samples()
local voiced, in_range = 0, true
for _, v in ipairs(f0) do
  if v > 0 then
    voiced = voiced + 1
    in_range = in_range and v >= 80 and v <= 1000
  end
end
t.check("repet_pitch: f0 in [fmin_hz, fmax_hz] where voiced", in_range)
t.check("repet_pitch: a lead in most frames", voiced > #f0 / 2, string.format("%d of %d", voiced, #f0))
t.check("repet_pitch: f0 one value per frame", r.f0:eval().shape[2] == m.shape[2], r.f0:eval().shape[2])

-- stereo: one mask per channel
local stereo = strata.merge { song.mixture, song.mixture * 0.5 }:stft { n_fft = 2048, hop = 512 }:repet_pitch {}
t.check("repet_pitch: stereo, a mask per channel", stereo.mask:eval().shape[1] == 2, stereo.mask:eval().shape[1])
t.raises("repet_pitch: fmin_hz above fmax_hz is an error", function()
  spec:repet_pitch { fmin_hz = 500, fmax_hz = 200 }:eval()
end, "fmin_hz = 500 is above fmax_hz = 200")

-- the command: strata repet --method pitch writes both files, which sum to the song, prints
-- the period, and beats --method refine (both on nussl's sqrt-Hann STFT)
local strata_bin = os.getenv("STRATA") or "./strata"
local dir = t.tmpdir()
song.mixture:save(dir .. "/mix.wav")
local function command(method)
  local p = io.popen(string.format("'%s' repet '%s/mix.wav' -o '%s/%s' --method %s 2>&1", strata_bin, dir, dir, method, method))
  local said = p:read("a")
  p:close()
  local fg, bg = strata.load(dir .. "/" .. method .. "/foreground.wav"), strata.load(dir .. "/" .. method .. "/background.wav")
  return said, fg, bg, strata.bsseval(strata.list { song.lead, rest }, strata.list { fg, bg }).sdr:samples()
end
local said, fg, bg, cli = command("pitch")
t.check("strata repet --method pitch prints the four-bar period",
  math.abs((tonumber(said:match("period (%d+%.%d+) s")) or 0) - 4 * 4 * 60 / 155) < 0.05, said)
t.check("strata repet --method pitch: the files sum to the input", (fg + bg - song.mixture):eval().peak < 1e-4)
local _, _, _, old = command("refine")
t.check("strata repet --method pitch: lead and rest above --method refine", cli[1] > old[1] + 0.3 and cli[2] > old[2] + 0.3,
  string.format("%.2f, %.2f against %.2f, %.2f", cli[1], cli[2], old[1], old[2]))
os.execute("rm -rf '" .. dir .. "'")
