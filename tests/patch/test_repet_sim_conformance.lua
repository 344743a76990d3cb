-- REPET-SIM against nussl 1.1.9's own RepetSim (corpus conformance/nussl_repet): the
-- repeating frames of every frame in the stored windows, in nussl's order, and the
-- background mask there. nussl's STFT as in test_repet_conformance.lua.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local json = require "json"

local root = t.corpus("conformance/nussl_repet", "repetsim.json", "repet_sim conformance")
if not root then return end
local hpss_root = t.corpus("conformance/librosa_hpss", "input.wav", "repet_sim conformance (input)")
if not hpss_root then return end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local ref = json.decode(read(root .. "/repetsim.json"))

local rate, hop = 44100, 512
local x = strata.load(hpss_root .. "/input.wav")
local padded = strata.mix { x, strata.signal { kind = "silence", seconds = (ref.n_frames - 1) * hop / rate } }
local spec = padded:stft { n_fft = 2048, hop = hop, window = "sqrt_hann" }
local r = spec:repet_sim {}
t.check("min distance in frames as nussl's", math.abs(1 * rate / hop - ref.min_distance_frames) < 1e-9)

-- the repeating frames, in the order nussl found them
local nb = r.neighbours:eval()
local width = nb.shape[2]
local idx = r.neighbours:samples()
local n_bins = 1025
for w, span in pairs(ref.mask_windows_frames) do
  local same, first_bad = 0, nil
  for j = 0, span[2] - span[1] - 1 do
    local frame, want = span[1] + j, ref.similarity_indices[w][j + 1]
    local ok = true
    for i = 1, width do
      local got = idx[frame * width + i]
      if (want[i] or -1) ~= got then ok = false end
    end
    if ok then same = same + 1 elseif not first_bad then first_bad = frame end
  end
  t.check("repeating frames (" .. w .. ") as nussl's", same == span[2] - span[1],
    string.format("%d of %d frames agree; first differing: %s", same, span[2] - span[1], tostring(first_bad)))
end

-- the background mask, as in test_repet_conformance.lua (float32 spectra: bins within
-- 50 dB of their frame's peak within 1e-4, everywhere difference x level within 1e-6)
local mask = r.mask:samples()
local mag = spec:magnitude():samples()
for w, span in pairs(ref.mask_windows_frames) do
  local bytes = read(root .. "/repetsim_background_mask_" .. w .. ".f32")
  local near, weighted = 0, 0
  for j = 0, 127 do
    local base, peak = (span[1] + j) * n_bins, 0
    for k = 1, n_bins do peak = math.max(peak, mag[base + k]) end
    for k = 0, n_bins - 1 do
      local d = math.abs(mask[base + k + 1] - string.unpack("<f", bytes, 4 * (k * 128 + j) + 1))
      local level = mag[base + k + 1] / peak
      if level >= 10 ^ (-50 / 20) then near = math.max(near, d) end
      weighted = math.max(weighted, d * level)
    end
  end
  t.check("background mask (" .. w .. ") within 1e-4 of nussl's (bins within 50 dB of the peak)", near <= 1e-4,
    string.format("max diff %.3g", near))
  t.check("background mask (" .. w .. ") times level within 1e-6 of nussl's", weighted <= 1e-6,
    string.format("max %.3g", weighted))
  print(string.format("# repet_sim mask %s: max difference %.3g, weighted by level %.3g", w, near, weighted))
end
