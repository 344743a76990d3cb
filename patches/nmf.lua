-- strata nmf: separate K sources by non-negative matrix factorization, components grouped blind
-- strata nmf IN... -o DIR --sources K [--rank R] [--beta B] [--group joint|timbre|activation|shift] [--iterations N]
--   [--components] [--filename T] [--format F] [--subtype S]
local strata = require "strata"

local opt = strata.args {
  usage = "IN... -o DIR --sources K [--rank R] [--beta B] [--group joint|timbre|activation|shift] [--iterations N]\n" ..
          "       [--components] [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Split each IN into K sources, source_1.wav ... source_K.wav in DIR (created if needed), by NMF\n" ..
        "of its magnitude spectrogram (multiplicative updates as scikit-learn's NMF(solver='mu')),\n" ..
        "the components grouped blind into sources by k-means on their timbre (MFCCs of the\n" ..
        "templates), their activation envelopes, or both (joint); or on pitch-blind timbre (shift:\n" ..
        "templates compared at their best pitch shift, k-means weighted by energy; better for songs\n" ..
        "of one drum kit and pitched instruments, worse for loops that enter and leave). Wiener\n" ..
        "masks from the grouped models, on the mixture's phase. Channels share the templates; rate\n" ..
        "and channels are kept. --components also writes each component as\n" ..
        "components/component_N.wav. With several inputs each gets a folder of its own:\n" ..
        "DIR/NAME/source_1.wav.",
  positional = { { "input", "the audio files to split", many = true } },
  writes = "audio",
  options = {
    { "sources", 2, "number of sources K", param = "nmf_group.sources" },
    { "rank", 0, "NMF components, at least K (0: 8 per source)", param = "nmf.rank" },
    { "beta", 1, "beta-divergence: 2 Euclidean, 1 Kullback-Leibler, 0 Itakura-Saito", param = "nmf.beta" },
    { "group", "joint", "grouping of the components: joint, timbre, activation or shift" },
    { "iterations", 200, "NMF iterations at most", param = "nmf.iterations" },
    { "tol", 1e-4, "NMF stopping tolerance (0: all iterations)", param = "nmf.tol" },
    { "power", 2, "Wiener mask exponent", param = "nmf_group.power" },
    { "smooth", 2.5, "activation envelopes: moving average in seconds" },
    { "seed", 0, "seed of the start and of k-means", param = "nmf.seed" },
    { "components", false, "also write every component in DIR/components/" },
    { "n-fft", 2048, "STFT frame length", param = "stft.n_fft" },
    { "hop", 512, "STFT hop", param = "stft.hop" },
  },
}
local command = opt.command
local groups = { joint = true, timbre = true, activation = true, shift = true }
if not groups[opt.group] then
  strata.usage_error(command, string.format("--group must be joint, timbre, activation or shift, not '%s'", opt.group))
end
local rank = opt.rank > 0 and opt.rank or 8 * opt.sources
-- --sources and --rank are each in their node's range; what they make together is checked here,
-- before any work (nmf and nmf_group would refuse it after the load and the factorization)
local _, _, rank_max = strata.param_range("nmf", "rank")
if opt.rank == 0 and rank > rank_max then
  strata.usage_error(command, string.format("--sources %d makes %d components (8 per source), above nmf's %d: give --rank",
    opt.sources, rank, math.tointeger(rank_max)))
end
if rank < opt.sources then
  strata.usage_error(command, string.format("--sources %d wants at least %d components, not --rank %d", opt.sources,
    opt.sources, rank))
end
local stems = {}
for k = 1, opt.sources do stems[k] = "source_" .. k end
if opt.components then
  for k = 1, rank do stems[#stems + 1] = "components/component_" .. k end
end
local paths = strata.output_paths(opt, opt.input, stems)
local stale = {} -- an earlier run's stems beyond this run's count, removed once all succeed
for i, input in ipairs(opt.input) do
  local song = strata.load(input)
  local spec = song:stft { n_fft = opt.n_fft, hop = opt.hop }
  local hop = spec:eval().hop -- the hop stft used (--hop 0: its own choice), from the spectrum's facts
  local model = spec:magnitude():nmf { rank = rank, beta = opt.beta, iterations = opt.iterations,
                                       tol = opt.tol, seed = opt.seed, floor = opt.beta <= 0 and 1e-6 or 0 }
  local rate = song:eval().rate
  local shift = opt.group == "shift"
  local grouped = strata.nmf_group(model, {
    sources = opt.sources, method = shift and "timbre" or opt.group, power = opt.power, rate = rate,
    seed = opt.seed, smooth = math.max(1, math.floor(opt.smooth * rate / hop + 0.5)),
    timbre = shift and "shift" or "mfcc", weighting = shift and "energy" or "none",
  })
  local out = strata.resynth(spec, grouped.masks)
  for k = 1, opt.sources do strata.write_audio(opt, out[k], paths[i]["source_" .. k]) end
  stale[#stale + 1] = { i, function(k) return "source_" .. k end, opt.sources + 1 }
  if opt.components then
    -- one mask per component: its own model over the whole model
    local each = strata.nmf_group(model, { sources = rank, method = "none", power = 1 })
    local parts = strata.resynth(spec, each.masks)
    for k = 1, rank do strata.write_audio(opt, parts[k], paths[i]["components/component_" .. k]) end
    stale[#stale + 1] = { i, function(k) return "components/component_" .. k end, rank + 1 }
  end
end
strata.remove_stale(opt, opt.input, stale)
