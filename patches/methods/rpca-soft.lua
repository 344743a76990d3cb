-- Robust PCA as `rpca`, with soft masks |L|^2 / (|L|^2 + |S|^2) instead of nussl's binary ones.
return {
  doc = "robust PCA with soft (power 2) masks: foreground (sparse) and background (low-rank)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: rpca-soft separates 2 sources, not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:rpca { mask = "soft", power = 2 }
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
