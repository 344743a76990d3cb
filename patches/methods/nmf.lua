-- KL NMF of the mixture's magnitude spectrogram (8 components per source), the components
-- grouped blind by k-means on their templates' MFCCs and their activation envelopes (2.5 s),
-- Wiener masks (power 2) from the grouped models. doc/quality.md has every variant tried.
return {
  doc = "KL NMF (8 components per source) grouped blind by timbre and activation, Wiener masks",
  separate = function(strata, mixture, refs)
    local spec = mixture:stft { n_fft = 2048, hop = 512 }
    local model = spec:magnitude():nmf { rank = 8 * #refs, beta = 1, iterations = 200, tol = 0 }
    local smooth = math.floor(2.5 * spec:eval().rate / 512 + 0.5)
    local out = strata.resynth(spec, strata.nmf_group(model, {
      sources = #refs, method = "joint", power = 2, smooth = smooth, rate = spec:eval().rate }).masks)
    local estimates = {}
    for i = 1, #refs do estimates[i] = out[i] end
    return estimates
  end,
}
