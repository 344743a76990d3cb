-- REPET's properties on a synthetic song with known stems (no corpus needed): the
-- period is the song's bar, masks lie in [0, 1], background + foreground = mixture,
-- the non-repeating lead is found (SDR well above the mixture's), stereo and hard masks.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

-- 12 bars at 120 BPM: the drums repeat every bar (2 s); bass and chords every 4 bars
local song = strata.testsong { bars = 12, tempo = 120, seed = 3 }
local mix = song.mixture
local spec = mix:stft { n_fft = 2048, hop = 512 }
local r = spec:repet { min_period = 1.5, max_period = 8 }

local period = r.period:number()
t.check("period is a whole number of bars", math.abs(period / 2 - math.floor(period / 2 + 0.5)) < 0.02,
  string.format("%.3f s", period))
print(string.format("# period %.3f s", period))

local beat = r.beat_spectrum:eval()
t.check("beat spectrum has one value per frame", beat.shape[1] == spec:eval().frames, beat.shape[1])
local b = r.beat_spectrum:samples()
local best = 2
for l = 2, #b do if b[l] > b[best] then best = l end end
t.check("beat spectrum peaks at lag 0", b[1] >= b[best], string.format("%g < %g", b[1], b[best]))
local bs = spec:power():beat_spectrum():samples()
local same = #bs == #b
for l = 1, #b do if math.abs(bs[l] - b[l]) > 1e-6 * b[1] then same = false end end
t.check("beat_spectrum node = repet's beat spectrum", same)

local lo, hi = math.huge, -math.huge
for _, v in ipairs(r.mask:samples()) do lo, hi = math.min(lo, v), math.max(hi, v) end
t.check("mask in [0, 1]", lo >= 0 and hi <= 1, string.format("[%g, %g]", lo, hi))
local back = (r.background:istft() + r.foreground:istft() - mix):eval().peak
t.check("background + foreground = mixture", back < 1e-4, back)

-- the lead against the rest, as strata compare scores it
local s = strata.bsseval(strata.list { song.lead, song.drums + song.bass + song.chords },
  strata.list { r.foreground:istft(), r.background:istft() })
local got = s.sdr:samples()
local mixture = strata.bsseval(strata.list { song.lead, song.drums + song.bass + song.chords },
  strata.list { mix * 0.5, mix * 0.5 }).sdr:samples()
print(string.format("# lead %.2f dB, rest %.2f dB (mixture/2: %.2f, %.2f)", got[1], got[2], mixture[1], mixture[2]))
t.check("REPET finds the lead", got[1] + got[2] > mixture[1] + mixture[2] + 6,
  string.format("%.2f + %.2f against %.2f + %.2f", got[1], got[2], mixture[1], mixture[2]))

-- a given period is used as is (ceil(s * rate / hop) frames)
local given = spec:repet { period = 2 }.period:number()
t.check("given period", math.abs(given - math.ceil(2 * 44100 / 512) * 512 / 44100) < 1e-6, given)

-- hard masks are 0 or 1 and still sum the parts to the mixture
local h = spec:repet { mask = "hard" }
local hm = h.mask:samples()
local binary = true
for i = 1, #hm, 97 do if hm[i] ~= 0 and hm[i] ~= 1 then binary = false break end end
t.check("hard mask is binary", binary)

-- stereo: one model per channel, or one shared
local stereo = strata.merge { song.lead + song.drums, song.bass + song.chords + song.drums }
local ss = stereo:stft { n_fft = 2048, hop = 512 }
local per = ss:repet {}.mask:eval()
local one = ss:repet { shared = true }.mask:eval()
t.check("stereo: a mask per channel", per.shape[1] == 2, per.shape[1])
t.check("stereo shared: one mask", one.shape[1] == 1, one.shape[1])

-- bad parameters fail at the line that made them
t.raises("min above max", function() spec:repet { min_period = 5, max_period = 2 } end, "min_period = 5")
t.raises("no period to search", function()
  strata.signal { seconds = 1 }:stft {}:repet { min_period = 2, max_period = 3 }:eval()
end, "no period")

-- the command: DIR is created, both files written, the period printed
local strata_bin = os.getenv("STRATA") or "./strata"
local dir = t.tmpdir()
local short = strata.testsong { bars = 4, tempo = 120, seed = 5 }.mixture
short:save(dir .. "/mix.wav")
local p = io.popen(string.format("'%s' repet '%s/mix.wav' -o '%s/out/sub' --min-period 1 2>&1", strata_bin, dir, dir))
local said = p:read("a")
p:close()
local function exists(path) local f = io.open(path) if f then f:close() return true end return false end
t.check("strata repet writes both files", exists(dir .. "/out/sub/background.wav") and
  exists(dir .. "/out/sub/foreground.wav"), said)
t.check("strata repet prints the period", said:match("period %d+%.%d+ s") ~= nil, said)
local back = strata.load(dir .. "/out/sub/background.wav") + strata.load(dir .. "/out/sub/foreground.wav") - short
t.check("strata repet: the files sum to the input", back:eval().peak < 1e-4, back:eval().peak)
p = io.popen(string.format("'%s' repet '%s/mix.wav' -o '%s/x' --method nope 2>&1; echo status $?", strata_bin, dir, dir))
said = p:read("a")
p:close()
t.check("strata repet: unknown method is one line and fails", said:match("^strata repet: %-%-method nope") and
  not said:match("status 0"), said)
os.execute("rm -rf '" .. dir .. "'")
