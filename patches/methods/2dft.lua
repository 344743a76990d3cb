-- 2DFT separation (Seetharaman, Pishdadian & Pardo 2017) as nussl 1.1.9's FT2D (local_std
-- peaks over 25 frames of the time-rate axis): foreground and background.
return {
  doc = "2DFT (nussl 1.1.9's FT2D): foreground and background",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: 2dft separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:ft2d {}
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
