-- strata nmf: separate K sources by non-negative matrix factorization, components grouped blind
-- strata nmf IN -o DIR --sources K [--rank R] [--beta B] [--group joint|timbre|activation] [--iterations N] [--components]
local strata = require "strata"

local opt = strata.args {
  usage = "IN -o DIR --sources K [--rank R] [--beta B] [--group joint|timbre|activation] [--iterations N] [--components]",
  doc = "Split IN into K sources, source_1.wav ... source_K.wav in DIR (created if needed), by NMF\n" ..
        "of its magnitude spectrogram (multiplicative updates as scikit-learn's NMF(solver='mu')),\n" ..
        "the components grouped blind into sources by k-means on their timbre (MFCCs of the\n" ..
        "templates), their activation envelopes, or both (joint), and Wiener masks from the grouped\n" ..
        "models on the mixture's phase. Channels share the templates; rate and channels are kept.\n" ..
        "--components also writes each component as components/component_N.wav.",
  positional = { { "input", "the audio file to split" } },
  options = {
    { "o", "", "the folder to write into (created if needed)" },
    { "output", "", "the same as -o" },
    { "sources", 2, "number of sources K" },
    { "rank", 0, "NMF components (0: 8 per source)" },
    { "beta", 1, "beta-divergence: 2 Euclidean, 1 Kullback-Leibler, 0 Itakura-Saito" },
    { "group", "joint", "grouping of the components: joint, timbre or activation" },
    { "iterations", 200, "NMF iterations at most" },
    { "tol", 1e-4, "NMF stopping tolerance (0: all iterations)" },
    { "power", 2, "Wiener mask exponent" },
    { "smooth", 2.5, "activation envelopes: moving average in seconds" },
    { "seed", 0, "seed of the start and of k-means" },
    { "components", false, "also write every component in DIR/components/" },
    { "n-fft", 2048, "STFT frame length" },
    { "hop", 512, "STFT hop" },
  },
}
local command = "strata nmf"
local dir = opt.o ~= "" and opt.o or opt.output
if dir == "" then error(command .. ": missing -o DIR (see --help)", 0) end
local groups = { joint = true, timbre = true, activation = true }
if not groups[opt.group] then
  error(string.format("%s: --group must be joint, timbre or activation, not '%s' (see --help)", command, opt.group), 0)
end
if opt.sources < 1 or opt.sources ~= math.floor(opt.sources) then
  error(string.format("%s: --sources must be a whole number of at least 1, not %s", command, opt.sources), 0)
end
local function mkdir(path) -- mkdir(2), no shell
  local made, why = strata.mkdir(path)
  if not made then error(command .. ": " .. why, 0) end
end
local song = strata.load(opt.input)
local spec = song:stft { n_fft = opt.n_fft, hop = opt.hop }
local rank = opt.rank > 0 and opt.rank or 8 * opt.sources
local model = spec:magnitude():nmf { rank = rank, beta = opt.beta, iterations = opt.iterations,
                                     tol = opt.tol, seed = opt.seed, floor = opt.beta <= 0 and 1e-6 or 0 }
local rate = song:eval().rate
local grouped = strata.nmf_group(model, {
  sources = opt.sources, method = opt.group, power = opt.power, rate = rate, seed = opt.seed,
  smooth = math.max(1, math.floor(opt.smooth * rate / opt.hop + 0.5)),
})
mkdir(dir)
local out = strata.resynth(spec, grouped.masks)
for i = 1, opt.sources do out[i]:save(string.format("%s/source_%d.wav", dir, i)) end
if opt.components then
  mkdir(dir .. "/components")
  -- one mask per component: its own model over the whole model
  local each = strata.nmf_group(model, { sources = rank, method = "none", power = 1 })
  local parts = strata.resynth(spec, each.masks)
  for i = 1, rank do parts[i]:save(string.format("%s/components/component_%d.wav", dir, i)) end
end
print(string.format("wrote source_1.wav ... source_%d.wav%s in %s (%d components)", opt.sources,
  opt.components and " and components/" or "", dir, rank))
