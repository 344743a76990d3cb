-- Robust PCA (Huang et al. 2012, nussl 1.1's settings): the sparse part as the foreground
-- (voice, lead), the low-rank part as the background; binary masks, bins below 100 Hz to the
-- background.
return {
  doc = "robust PCA (nussl's settings, binary masks): foreground (sparse) and background (low-rank)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: rpca separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:rpca()
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
