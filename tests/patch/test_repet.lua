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

-- repet_mask: repet's mask, period and beat spectrum bit for bit, without the two spectra
local identical = t.identical
-- repet_mask's beat spectrum stops at the longest period searched (max_period, at most a
-- third of the song, in frames as ceil(s * rate / hop)); its shorter FFT gives repet's
-- values there to rounding (the doubles are the same to ~1e-15; float32 out)
local function same_lags(a, b, max_period)
  local x, y = a:samples(), b:samples()
  local want = math.min(#y, math.ceil(math.min(max_period, mix:eval().frames / 44100 / 3) * 44100 / 512) + 1)
  if #x ~= want then return false, string.format("%d lags, want %d (of %d)", #x, want, #y) end
  local worst = 0
  for i = 1, #x do worst = math.max(worst, math.abs(x[i] - y[i]) / y[i]) end
  print(string.format("# repet_mask: %d of %d lags, worst relative difference %.3g", #x, #y, worst))
  return worst <= 1e-6, string.format("%d of %d lags, worst relative difference %.3g", #x, #y, worst)
end
for _, case in ipairs {
  { "default", spec, { min_period = 1.5, max_period = 8 } }, { "hard", spec, { mask = "hard" } },
  { "refine", spec, { refine = 1 } }, { "adaptive", spec, { segment_s = 6 } },
  { "stereo", ss, {} }, { "stereo shared", ss, { shared = true } },
} do
  local full, alone = case[2]:repet(case[3]), case[2]:repet_mask(case[3])
  for _, field in ipairs { "mask", "period" } do
    t.check(string.format("repet_mask (%s): repet's %s, bit for bit", case[1], field),
      identical(alone[field], full[field]))
  end
  t.check(string.format("repet_mask (%s): repet's beat spectrum over the lags searched", case[1]),
    same_lags(alone.beat_spectrum, full.beat_spectrum, case[3].max_period or 8))
end
-- resynth applies the mask inside the inverse: repet's background, sample for sample; the
-- foreground as the mixture minus it is repet's to float rounding (strata repet's way)
local rm = spec:repet_mask { min_period = 1.5, max_period = 8 }
local bg_audio = strata.resynth(spec, rm.mask)[1]
t.check("resynth of repet_mask's mask = istft of repet's background", identical(bg_audio, r.background:istft()))
local off = (mix - bg_audio - r.foreground:istft()):eval().peak
t.check("mixture - background = istft of repet's foreground", off < 1e-5, off)

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
-- the sum holds by construction (foreground = song - background); what the command must also
-- get right is the background itself: the graph's repet_mask + resynth on the same framing
local short_spec = short:stft { n_fft = 2048, hop = 512, window = "sqrt_hann" }
local want = strata.resynth(short_spec, short_spec:repet_mask { min_period = 1 }.mask)[1]
local miss = (strata.load(dir .. "/out/sub/background.wav") - want):eval().peak
t.check("strata repet: its background is repet_mask's through resynth", miss < 1e-4, miss)
p = io.popen(string.format("'%s' repet '%s/mix.wav' -o '%s/x' --method nope 2>&1; echo status $?", strata_bin, dir, dir))
said = p:read("a")
p:close()
t.check("strata repet: unknown method is one line and fails", said:match("^strata repet: %-%-method nope") and
  not said:match("status 0"), said)

-- the longest period searched by default: nussl's 8 s for repet, 12 s for refine; a song at
-- 85 BPM whose chords repeat every four bars (11.29 s) gets its phrase only from refine
strata.testsong { bars = 13, tempo = 85, seed = 5 }.mixture:save(dir .. "/slow.wav")
local function period_of(options)
  local q = io.popen(string.format("'%s' repet '%s/slow.wav' -o '%s/slow' %s 2>&1", strata_bin, dir, dir, options))
  local out = q:read("a")
  q:close()
  return tonumber(out:match("period (%d+%.%d+) s")), out
end
local four_bars = 4 * 4 * 60 / 85
local got, out = period_of("--method refine")
t.check("strata repet --method refine: periods up to 12 s by default", got and math.abs(got - four_bars) < 0.05, out)
got, out = period_of("--method repet")
t.check("strata repet --method repet: nussl's 8 s by default", got and got <= 8, out)
got, out = period_of("--method refine --max-period 8")
t.check("strata repet --method refine --max-period 8 is obeyed", got and got <= 8, out)
os.execute("rm -rf '" .. dir .. "'")

-- REPET-SIM: repeating frames at least min_distance apart and never the frame itself,
-- at most max_repeating_frames - 1 of them, masks in [0, 1], parts summing to the mixture
local sim = spec:repet_sim { max_repeating_frames = 12, min_distance = 1 }
local nb = sim.neighbours:eval()
t.check("repet_sim: one row of neighbours per frame, 11 wide", nb.shape[1] == spec:eval().frames and nb.shape[2] == 11,
  table.concat(nb.shape, "x"))
local idx, width = sim.neighbours:samples(), nb.shape[2]
local apart, selfless, some = true, true, 0
local dmin = 44100 / 512 -- frames in 1 s
for f = 0, nb.shape[1] - 1 do
  local row = {}
  for i = 1, width do
    local j = idx[f * width + i]
    if j >= 0 then
      some = some + 1
      if j == f then selfless = false end
      for _, other in ipairs(row) do if math.abs(other - j) < dmin then apart = false end end
      row[#row + 1] = j
    end
  end
end
t.check("repet_sim: neighbours never the frame itself", selfless)
t.check("repet_sim: neighbours at least min_distance apart", apart)
t.check("repet_sim: most frames have neighbours", some > nb.shape[1] * 5, some)
local lo2, hi2 = math.huge, -math.huge
for _, v in ipairs(sim.mask:samples()) do lo2, hi2 = math.min(lo2, v), math.max(hi2, v) end
t.check("repet_sim: mask in [0, 1]", lo2 >= 0 and hi2 <= 1, string.format("[%g, %g]", lo2, hi2))
local sum2 = (sim.background:istft() + sim.foreground:istft() - mix):eval().peak
t.check("repet_sim: background + foreground = mixture", sum2 < 1e-4, sum2)

-- online REPET-SIM: a render (blocks of 100 and 256) equals the offline node, n_fft - 1 late
local strata_render = function(args)
  local p = io.popen(string.format("'%s' --quiet render %s 2>&1", strata_bin, args))
  local said = p:read("a")
  p:close()
  return said
end
local odir = t.tmpdir()
local src = strata.testsong { bars = 3, tempo = 120, seed = 7 }.mixture
src:save(odir .. "/src.wav")
local pf = io.open(odir .. "/online.lua", "w")
pf:write([[
local strata = require "strata"
local r = strata.load(arg[1]):play():repet_online { buffer_s = 2, max_repeating_frames = 20 }
r.background:jack_out()
r.foreground:jack_out()
]])
pf:close()
for _, block in ipairs { 100, 256 } do
  local said = strata_render(string.format("'%s/online.lua' '%s/src.wav' -o '%s/r%d.wav' --seconds 6.5 --block %d",
    odir, odir, odir, block, block))
  local rendered = strata.load(odir .. "/r" .. block .. ".wav")
  local n = rendered:eval().frames
  local offline = src:repet_online { buffer_s = 2, max_repeating_frames = 20 }
  local late = 2047 / 44100
  local ok_render = n >= 6.5 * 44100 - 1
  t.check(string.format("online render (block %d) ran", block), ok_render, said)
  if ok_render then
    local streamed = strata.load(odir .. "/r" .. block .. ".wav")
    -- up to the last hop of the 6 s song, which REPET-Python's framing (and so the
    -- offline node) leaves to one frame where the stream, going on, overlaps two
    local b = streamed:slice { start = late, duration = 5.9 }
    local want = strata.merge { offline.background, offline.foreground }:slice { duration = 5.9 }
    local d = (b - want):eval().peak
    t.check(string.format("online render (block %d) = offline, n_fft - 1 late", block), d < 1e-5, d)
  end
end
os.execute("rm -rf '" .. odir .. "'")
t.raises("online: a buffer too large is refused", function()
  strata.signal { seconds = 1 }:repet_online { buffer_s = 120, hop = 16 }:eval()
end, "buffer_s = 120 s holds")

-- refine (kernel backfitting), adaptive REPET and 2DFT: masks in [0, 1], parts summing to
-- the mixture, and the lead found (well above the mixture / 2 baseline)
local function in_unit(mask)
  local lo3, hi3 = math.huge, -math.huge
  for i, v in ipairs(mask:samples()) do
    if i % 7 == 0 then lo3, hi3 = math.min(lo3, v), math.max(hi3, v) end
  end
  return lo3 >= 0 and hi3 <= 1, string.format("[%g, %g]", lo3, hi3)
end
local refs = strata.list { song.lead, song.drums + song.bass + song.chords }
for _, case in ipairs {
  { "refine", spec:repet { refine = 1, min_period = 1.5 } },
  { "adaptive", spec:repet { segment_s = 24, min_period = 1.5 } }, -- the song repeats every 8 s
  { "ft2d", spec:ft2d {} },
} do
  local ok, why = in_unit(case[2].mask)
  t.check(case[1] .. ": mask in [0, 1]", ok, why)
  local back3 = (case[2].background:istft() + case[2].foreground:istft() - mix):eval().peak
  t.check(case[1] .. ": background + foreground = mixture", back3 < 1e-4, back3)
  local sdr3 = strata.bsseval(refs, strata.list { case[2].foreground:istft(), case[2].background:istft() }).sdr:samples()
  print(string.format("# %s: lead %.2f dB, rest %.2f dB", case[1], sdr3[1], sdr3[2]))
  t.check(case[1] .. ": finds the lead", sdr3[1] + sdr3[2] > mixture[1] + mixture[2] + 3,
    string.format("%.2f + %.2f", sdr3[1], sdr3[2]))
end
-- a drum loop alone repeats exactly: 2DFT puts most of it in the background
local loop = strata.testsong { bars = 8, tempo = 120, seed = 3 }.drums
local lp = loop:stft { n_fft = 2048, hop = 512 }:ft2d {}
local share = lp.background:istft():eval().rms / loop:eval().rms
t.check("ft2d: a drum loop is mostly background", share > 0.8, share)
