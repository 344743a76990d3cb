-- repet_audio (what strata repet runs for --method repet) against the road it replaced:
-- stft, repet_mask, resynth of its mask, the song minus that background. The same samples,
-- period and beat spectrum (to rounding: it is made from the magnitudes), without the
-- spectrum or the mask in memory; background + foreground = the song.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local identical = t.identical
local function same_beat(a, b)
  local x, y = a:samples(), b:samples()
  if #x ~= #y then return false, string.format("%d lags against %d", #x, #y) end
  local worst = 0
  for i = 1, #x do worst = math.max(worst, math.abs(x[i] - y[i]) / y[1]) end
  return worst <= 1e-6, string.format("%d lags, worst difference %.3g of lag 0", #x, worst)
end

local song = strata.testsong { bars = 12, tempo = 120, seed = 3 }
local mono = song.mixture
local short = strata.testsong { bars = 4, tempo = 120, seed = 5 }.mixture
local stereo = strata.merge { song.lead + song.drums, song.bass + song.chords + song.drums }
for _, case in ipairs {
  { "default", mono, {}, { min_period = 1.5, max_period = 8 } },
  { "hard", mono, {}, { mask = "hard", threshold = 0.4 } },
  { "quantile, high-pass", mono, {}, { quantile = 0.7, high_pass_hz = 300 } },
  { "period given", mono, {}, { period = 2 } },
  { "n_fft 1024, hop 300, hamming, not centred", mono,
    { n_fft = 1024, hop = 300, window = "hamming", center = false }, {} },
  { "stereo", stereo, {}, {} },
  -- the block layout's edges: one whole block of 16 bins, one partial block,
  -- magnitudes eight times the song (three regions: the rest is freed), and a
  -- period of two frames (more segments than the model's fast path takes)
  { "n_fft 30: 16 bins, one block", short, { n_fft = 30, hop = 15 }, { period = 1 } },
  { "n_fft 16: 9 bins, a partial block", short, { n_fft = 16, hop = 8 }, { period = 1 } },
  { "hop n_fft / 16", short,
    { n_fft = 1024, hop = 64 }, { min_period = 0.5, max_period = 2 } },
  { "period of two frames", short,
    { n_fft = 128, hop = 32 }, { period = 64 / 44100, quantile = 0.3 } },
} do
  local name, song, framing, options = case[1], case[2], case[3], case[4]
  local stft = { n_fft = framing.n_fft or 2048, hop = framing.hop or 512,
                 window = framing.window or "sqrt_hann", center = framing.center ~= false }
  local spec = song:stft(stft)
  local rm = spec:repet_mask(options)
  local background = strata.resynth(spec, rm.mask)[1]
  local foreground = song - background
  local all = {}
  for k, v in pairs(stft) do all[k] = v end
  for k, v in pairs(options) do all[k] = v end
  local ra = song:repet_audio(all)
  t.check(string.format("repet_audio (%s): the period of repet_mask", name), identical(ra.period, rm.period))
  t.check(string.format("repet_audio (%s): its beat spectrum to rounding", name),
    same_beat(ra.beat_spectrum, rm.beat_spectrum))
  t.check(string.format("repet_audio (%s): the background of resynth, bit for bit", name),
    identical(ra.background, background))
  t.check(string.format("repet_audio (%s): the foreground of song - background, bit for bit", name),
    identical(ra.foreground, foreground))
  local back = (ra.background + ra.foreground - song):eval().peak
  t.check(string.format("repet_audio (%s): background + foreground = the song", name), back < 1e-5, back)
end

-- bad parameters fail at the line that made them
t.raises("hop above n_fft", function() mono:repet_audio { n_fft = 512, hop = 1024 } end, "hop = 1024")
t.raises("frames that do not overlap, at the window's zeros", function()
  mono:repet_audio { n_fft = 1024, hop = 1024 }
end, "hop = n_fft = 1024")
t.raises("min above max", function() mono:repet_audio { min_period = 5, max_period = 2 } end, "min_period = 5")
t.raises("no period to search", function()
  strata.signal { seconds = 1 }:repet_audio { min_period = 2, max_period = 3 }:eval()
end, "no period")
t.raises("shorter than a frame", function()
  strata.signal { seconds = 0.01 }:repet_audio { n_fft = 4096, center = false }:eval()
end, "shorter than n_fft")
