-- KL NMF of the mixture (4 components per source, the corpus protocol's plain-NMF bound), each
-- component given to the source whose ideal ratio mask holds most of its energy: the best
-- plain NMF can do with this rank. Reads the true stems: a bound, not a method.
return {
  doc = "KL NMF (4 components per source) grouped by the true stems (an upper bound for plain NMF)",
  oracle = true,
  separate = function(strata, mixture, refs)
    local spec = mixture:stft { n_fft = 2048, hop = 512 }
    local model = spec:magnitude():nmf { rank = 4 * #refs, beta = 1, iterations = 200, tol = 0 }
    local mags = {}
    for i, r in ipairs(refs) do mags[i] = r:stft { n_fft = 2048, hop = 512 }:magnitude() end
    local out = strata.resynth(spec, strata.nmf_group(model, mags, {
      sources = #refs, method = "oracle", power = 2 }).masks)
    local estimates = {}
    for i = 1, #refs do estimates[i] = out[i] end
    return estimates
  end,
}
