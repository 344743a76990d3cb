-- The U-Net mask model (doc/unet.md) with the shipped weights: the lead (vocals) and the rest.
return {
  doc = "U-Net (Jansson et al. 2017, strata's shipped model): vocals (lead) and accompaniment",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: unet separates 2 sources (vocals, accompaniment), not " .. #refs, 0) end
    local spec = mixture:stft { n_fft = 2048, hop = 512 }
    local parts = strata.resynth(spec, spec:unet {})
    return { parts[1], parts[2] }
  end,
}
