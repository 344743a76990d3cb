-- ft2d against an independent reference: nussl 1.1.9's FT2D (Seetharaman, Pishdadian
-- & Pardo 2017) written out here in plain Lua, in double precision, on tiny spectra
-- (a direct 2-D DFT, scipy.ndimage's maximum/uniform/minimum filters with the
-- `reflect` boundary, numpy's fftshift), step by step as nussl's code does it:
--   data = |fftshift(fft2(S))| / (max + 1e-7), S the magnitude / sum(window)
--   local_std: (max_f - mean_f) / (sqrt(mean_f(d^2) - mean_f^2) + 1e-7) where d == max_f,
--              over its maximum + 1e-7;  original: d == max_f and max_f - min_f > std(data)
--   np.maximum(m, fliplr(m), flipud(m)): the third argument is numpy's `out`, a flipped
--              view of m itself, so m becomes flipud(max(m, fliplr(m)))
--   mask = min(|ifft2(ifftshift(m) * F)|, S + 1e-7) / (S + 1e-7), over max(mask + 1e-7)
-- nussl's arrays are (freq, time); its neighborhood_size is (freq, time).
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local pi = math.pi

-- the 2-D DFT of a real (or complex) F x T matrix (re, im: tables of rows), sign -1
-- forward, +1 inverse (unscaled), by rows then columns
local function dft2(re, im, sign)
  local F, T = #re, #re[1]
  local function dft1(xr, xi, n)
    local yr, yi = {}, {}
    for k = 0, n - 1 do
      local sr, si = 0, 0
      for j = 0, n - 1 do
        local a = sign * 2 * pi * ((k * j) % n) / n
        local c, s = math.cos(a), math.sin(a)
        sr = sr + xr[j + 1] * c - xi[j + 1] * s
        si = si + xr[j + 1] * s + xi[j + 1] * c
      end
      yr[k + 1], yi[k + 1] = sr, si
    end
    return yr, yi
  end
  local ar, ai = {}, {}
  for f = 1, F do ar[f], ai[f] = dft1(re[f], im[f], T) end
  for tt = 1, T do
    local cr, ci = {}, {}
    for f = 1, F do cr[f], ci[f] = ar[f][tt], ai[f][tt] end
    local yr, yi = dft1(cr, ci, F)
    for f = 1, F do ar[f][tt], ai[f][tt] = yr[f], yi[f] end
  end
  return ar, ai
end

-- numpy.fft.fftshift (shift = 1) or ifftshift (shift = -1) of a matrix of rows
local function shift2(m, dir)
  local F, T = #m, #m[1]
  local out = {}
  for f = 1, F do
    out[f] = {}
    for tt = 1, T do
      local sf, st
      if dir == 1 then
        sf, st = (f - 1 - F // 2) % F, (tt - 1 - T // 2) % T
      else
        sf, st = (f - 1 + F // 2) % F, (tt - 1 + T // 2) % T
      end
      out[f][tt] = m[sf + 1][st + 1]
    end
  end
  return out
end

-- scipy.ndimage's `reflect` mode: (d c b a | a b c d | d c b a), 0-based index
local function reflect(i, n)
  while i < 0 or i >= n do
    if i < 0 then i = -i - 1 else i = 2 * n - 1 - i end
  end
  return i
end

-- scipy's size-n window around 0 with origin 0: offsets -(n // 2) .. n - n // 2 - 1
local function window_stat(d, size_f, size_t, stat)
  local F, T = #d, #d[1]
  local out = {}
  for f = 1, F do
    out[f] = {}
    for tt = 1, T do
      local hi, lo, s = -math.huge, math.huge, 0
      for a = -(size_f // 2), size_f - size_f // 2 - 1 do
        for b = -(size_t // 2), size_t - size_t // 2 - 1 do
          local v = d[reflect(f - 1 + a, F) + 1][reflect(tt - 1 + b, T) + 1]
          hi, lo, s = math.max(hi, v), math.min(lo, v), s + v
        end
      end
      out[f][tt] = stat == "max" and hi or stat == "min" and lo or s / (size_f * size_t)
    end
  end
  return out
end

-- nussl's FT2D background mask of one channel: S is F x T (rows of bins over time)
local function reference_mask(S, opt)
  local F, T = #S, #S[1]
  local zero = {}
  for f = 1, F do
    zero[f] = {}
    for tt = 1, T do zero[f][tt] = 0 end
  end
  local Xr, Xi = dft2(S, zero, -1)
  local absX = {}
  for f = 1, F do
    absX[f] = {}
    for tt = 1, T do absX[f][tt] = math.sqrt(Xr[f][tt] ^ 2 + Xi[f][tt] ^ 2) end
  end
  local data = shift2(absX, 1)
  local top = -math.huge
  for f = 1, F do for tt = 1, T do top = math.max(top, data[f][tt]) end end
  for f = 1, F do for tt = 1, T do data[f][tt] = data[f][tt] / (top + 1e-7) end end
  local nf, nt = opt.neighborhood_freq, opt.neighborhood
  local dmax = window_stat(data, nf, nt, "max")
  local m = {}
  if opt.filter == "local_std" then
    local sq = {}
    for f = 1, F do
      sq[f] = {}
      for tt = 1, T do sq[f][tt] = data[f][tt] ^ 2 end
    end
    local mean, mean_sq = window_stat(data, nf, nt, "mean"), window_stat(sq, nf, nt, "mean")
    local best = -math.huge
    for f = 1, F do
      m[f] = {}
      for tt = 1, T do
        local sd = math.sqrt(math.max(mean_sq[f][tt] - mean[f][tt] ^ 2, 0)) + 1e-7
        local v = (dmax[f][tt] - mean[f][tt]) / sd
        m[f][tt] = data[f][tt] == dmax[f][tt] and v or 0
        best = math.max(best, m[f][tt])
      end
    end
    for f = 1, F do for tt = 1, T do m[f][tt] = m[f][tt] / (best + 1e-7) end end
  else
    local s, s2, n = 0, 0, F * T
    for f = 1, F do for tt = 1, T do s, s2 = s + data[f][tt], s2 + data[f][tt] ^ 2 end end
    local threshold = math.sqrt(math.max(s2 / n - (s / n) ^ 2, 0))
    local dmin = window_stat(data, nf, nt, "min")
    for f = 1, F do
      m[f] = {}
      for tt = 1, T do
        m[f][tt] = (data[f][tt] == dmax[f][tt] and dmax[f][tt] - dmin[f][tt] > threshold) and 1 or 0
      end
    end
  end
  -- np.maximum(m, fliplr(m), out = flipud(m))
  local sym = {}
  for f = 1, F do
    sym[F + 1 - f] = {}
    for tt = 1, T do sym[F + 1 - f][tt] = math.max(m[f][tt], m[f][T + 1 - tt]) end
  end
  local keep = shift2(sym, -1)
  local Br, Bi = {}, {}
  for f = 1, F do
    Br[f], Bi[f] = {}, {}
    for tt = 1, T do
      local w = opt.use_bg_2dft and keep[f][tt] or 1 - keep[f][tt]
      Br[f][tt], Bi[f][tt] = w * Xr[f][tt], w * Xi[f][tt]
    end
  end
  local Er, Ei = dft2(Br, Bi, 1)
  local mask, est_top = {}, -math.huge
  for f = 1, F do
    mask[f] = {}
    for tt = 1, T do
      local s = S[f][tt] + 1e-7
      local e = math.sqrt(Er[f][tt] ^ 2 + Ei[f][tt] ^ 2) / (F * T)
      mask[f][tt] = math.min(e, s) / s
      est_top = math.max(est_top, mask[f][tt] + 1e-7)
    end
  end
  for f = 1, F do
    for tt = 1, T do
      mask[f][tt] = mask[f][tt] / est_top
      if not opt.use_bg_2dft then mask[f][tt] = 1 - mask[f][tt] end
    end
  end
  return mask
end

-- a short stretch of the test song (drums, bass, chords, lead): odd and even frame
-- counts, odd and even bin counts (n_fft 32: 17 bins; n_fft 30: 16)
local song = strata.testsong { bars = 1, tempo = 120 }.mixture
local cases = {
  { n_fft = 32, seconds = 0.0312, opt = { neighborhood = 25, neighborhood_freq = 1, filter = "local_std", use_bg_2dft = true } },
  { n_fft = 32, seconds = 0.0302, opt = { neighborhood = 6, neighborhood_freq = 3, filter = "local_std", use_bg_2dft = false } },
  { n_fft = 30, seconds = 0.0302, opt = { neighborhood = 7, neighborhood_freq = 2, filter = "local_std", use_bg_2dft = true } },
  { n_fft = 32, seconds = 0.0312, opt = { neighborhood = 5, neighborhood_freq = 1, filter = "original", use_bg_2dft = true } },
  { n_fft = 30, seconds = 0.0302, opt = { neighborhood = 4, neighborhood_freq = 1, filter = "original", use_bg_2dft = false } },
}
for _, case in ipairs(cases) do
  local n_fft = case.n_fft
  local wsum = n_fft / 2 -- the periodic Hann window sums to n_fft / 2
  local spec = song:slice { start = 0.25, duration = case.seconds }:stft { n_fft = n_fft, hop = n_fft // 2 }
  local T, F = spec:eval().frames, n_fft // 2 + 1
  local mag = spec:magnitude():samples()
  local S = {}
  for f = 1, F do
    S[f] = {}
    for tt = 1, T do S[f][tt] = mag[(tt - 1) * F + f] / wsum end
  end
  local want = reference_mask(S, case.opt)
  local o = case.opt
  local r = spec:ft2d { neighborhood = o.neighborhood, neighborhood_freq = o.neighborhood_freq, filter = o.filter,
    use_bg_2dft = o.use_bg_2dft, high_pass_hz = 0 }
  local got = r.mask:samples()
  local worst, at = 0, ""
  for f = 1, F do
    for tt = 1, T do
      local d = math.abs(got[(tt - 1) * F + f] - want[f][tt])
      if d > worst then worst, at = d, string.format("bin %d frame %d", f - 1, tt - 1) end
    end
  end
  local name = string.format("ft2d %s, neighbourhood %d x %d, %s, %d frames x %d bins: mask as the reference",
    o.filter, o.neighborhood_freq, o.neighborhood, o.use_bg_2dft and "background" or "foreground", T, F)
  t.check(name, worst <= 1e-4, string.format("max difference %.3g at %s", worst, at))
  print(string.format("# %s: max difference %.3g", name, worst))
end
