-- REPET-SIM against nussl 1.1.9's own RepetSim (corpus conformance/nussl_repet; nussl's
-- STFT and the mask comparison in nussl_repet.lua): the repeating frames of every frame
-- in the stored windows, in nussl's order, and the background mask there.
package.path = "tests/patch/?.lua;" .. package.path
local t = require "harness"
local nussl = require "nussl_repet"

local fixture = nussl.open("repetsim.json", "repet_sim conformance")
if not fixture then return end
local ref, root = fixture.ref, fixture.root
local spec = nussl.stft(fixture.input, ref.n_frames)
local r = spec:repet_sim {}
t.check("min distance in frames as nussl's", math.abs(1 * nussl.rate / nussl.hop - ref.min_distance_frames) < 1e-9)

-- the repeating frames, in the order nussl found them
local width = r.neighbours:eval().shape[2]
local idx = r.neighbours:samples()
for w, span in pairs(ref.mask_windows_frames) do
  local same, first_bad = 0, nil
  for j = 0, span[2] - span[1] - 1 do
    local frame, want = span[1] + j, ref.similarity_indices[w][j + 1]
    local ok = true
    for i = 1, width do
      if (want[i] or -1) ~= idx[frame * width + i] then ok = false end
    end
    if ok then same = same + 1 elseif not first_bad then first_bad = frame end
  end
  t.check("repeating frames (" .. w .. ") as nussl's", same == span[2] - span[1],
    string.format("%d of %d frames agree; first differing: %s", same, span[2] - span[1], tostring(first_bad)))
end

local mask, mag = r.mask:samples(), spec:magnitude():samples()
for w, span in pairs(ref.mask_windows_frames) do
  nussl.check_mask("repet_sim background mask (" .. w .. ")", mask, mag,
    root .. "/repetsim_background_mask_" .. w .. ".f32", span[1], nussl.n_fft // 2 + 1)
end
