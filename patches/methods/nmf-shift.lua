-- KL NMF of the mixture's magnitude spectrogram (8 components per source), the components
-- grouped blind by their pitch-blind timbre: templates compared on a log-frequency axis at the
-- best of the shifts up to two octaves (notes of one instrument are shifts of one another), and
-- k-means weighted by each component's energy. Wiener masks (power 2). doc/quality.md compares
-- it with `nmf`.
return {
  doc = "KL NMF (8 components per source) grouped blind by pitch-blind timbre, energy-weighted k-means",
  separate = function(strata, mixture, refs)
    local spec = mixture:stft { n_fft = 2048, hop = 512 }
    local model = spec:magnitude():nmf { rank = 8 * #refs, beta = 1, iterations = 200, tol = 0 }
    local out = strata.resynth(spec, strata.nmf_group(model, {
      sources = #refs, method = "timbre", timbre = "shift", weighting = "energy", power = 2,
      rate = spec:eval().rate }).masks)
    local estimates = {}
    for i = 1, #refs do estimates[i] = out[i] end
    return estimates
  end,
}
