-- The ntd node from a patch: outputs and their shapes, MU's error never
-- rising, a given start continuing a fit, fixed modes, seeds, and clear
-- errors for bad settings. (Conformance with TensorLy is in tests/unit/test_ntd.c.)
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

-- a small 3-axis magnitude array (channel x time x freq) stands in for a cube
local song = strata.testsong { bars = 2, tempo = 120 }
local four = strata.merge { song.drums, song.bass, song.chords, song.lead }
local cube = four:stft { n_fft = 256, hop = 128 }:magnitude()
local shape = cube:eval().shape

local function opts(extra)
  local o = { rank_freq = 2, rank_time = 5, rank_bar = 6, tol = 0 }
  for k, v in pairs(extra or {}) do o[k] = v end
  return o
end

local mu = cube:ntd(opts { iterations = 30 })
local e = mu.errors:samples()
t.check("ntd mu: one error per iteration", #e == 30, #e)
local rises = 0
for i = 2, #e do if e[i] > e[i - 1] * (1 + 1e-6) then rises = rises + 1 end end
t.check("ntd mu: the error never rises", rises == 0, rises .. " rises")
t.check("ntd mu: the error falls", e[#e] < e[1] and e[#e] > 0 and e[#e] < 1, e[1] .. " -> " .. e[#e])
local function same_shape(h, want)
  local s = h:eval().shape
  return #s == #want and s[1] == want[1] and s[2] == want[2] and s[3] == want[3]
end
t.check("ntd: core is rank_freq x rank_time x rank_bar", same_shape(mu.core, { 2, 5, 6 }),
  table.concat(mu.core:eval().shape, "x"))
t.check("ntd: sound, rhythm, layout are mode x rank",
  same_shape(mu.sound, { shape[1], 2 }) and same_shape(mu.rhythm, { shape[2], 5 })
  and same_shape(mu.layout, { shape[3], 6 }), "shapes differ")
t.check("ntd: factors keep the cube's axis names",
  mu.rhythm:eval().axes[1] == cube:eval().axes[2], mu.rhythm:eval().axes[1])

-- a given start continues where the fit stopped
local more = cube:ntd { mu.core, mu.sound, mu.rhythm, mu.layout, init = "given", iterations = 3,
  tol = 0, rank_freq = 2, rank_time = 5, rank_bar = 6 }
local e2 = more.errors:samples()
t.check("ntd given: continues the fit", e2[1] <= e[#e] * (1 + 1e-6), e2[1] .. " after " .. e[#e])

-- fixed modes stay as given
local fixed = cube:ntd { mu.core, mu.sound, mu.rhythm, mu.layout, init = "given", iterations = 3,
  tol = 0, rank_freq = 2, rank_time = 5, rank_bar = 6, algorithm = "hals", fix_layout = true }
local a, b = fixed.layout:samples(), mu.layout:samples()
local moved = 0
for i = 1, #a do moved = math.max(moved, math.abs(a[i] - b[i])) end
t.check("ntd fix_layout: layout unchanged", moved == 0, moved)

-- hals, sparsity, seeds
local hals = cube:ntd(opts { algorithm = "hals", iterations = 20, init = "random", seed = 3 })
local h = hals.errors:samples()
t.check("ntd hals: the error falls", h[#h] < h[1], h[1] .. " -> " .. h[#h])
local again = cube:ntd(opts { algorithm = "hals", iterations = 20, init = "random", seed = 3 })
t.check("ntd random: a seed gives the same result", again.errors:samples()[20] == h[20], "differs")
local other = cube:ntd(opts { algorithm = "hals", iterations = 20, init = "random", seed = 4 })
t.check("ntd random: another seed, another start", other.errors:samples()[1] ~= h[1], "same")
local sparse = cube:ntd(opts { algorithm = "hals", iterations = 20, sparsity_sound = 10,
  sparsity_core = 1 })
t.check("ntd hals sparsity: runs", #sparse.errors:samples() == 20, "no errors")

-- tol stops early, from the third iteration on
local early = cube:ntd(opts { iterations = 200, tol = 1 })
t.check("ntd tol: stops at the third iteration", #early.errors:samples() == 3, #early.errors:samples())

-- bad settings: one clear error naming the parameter
t.raises("ntd: rank larger than the mode", function()
  cube:ntd { rank_freq = 5 }:eval()
end, "rank_freq = 5 exceeds the cube's 4")
t.raises("ntd: sparsity needs hals", function()
  cube:ntd { sparsity_sound = 1 }
end, "sparsity_sound = 1 needs algorithm = \"hals\"")
t.raises("ntd: given needs its arrays", function()
  cube:ntd { init = "given", rank_freq = 2 }:eval()
end, "takes four arrays")
t.raises("ntd: a given core of the wrong shape", function()
  cube:ntd { mu.core, mu.sound, mu.rhythm, mu.layout, init = "given", rank_freq = 2, rank_time = 4,
    rank_bar = 6 }:eval()
end, "core %(input 2%) must be 2 x 4 x 6")
t.raises("ntd: the cube must have 3 axes", function()
  mu.sound:ntd { rank_freq = 1, rank_time = 1, rank_bar = 1 }:eval()
end, "3 axes")
