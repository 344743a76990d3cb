-- HPSS with margin 2 (Driedger's HPR): percussive and harmonic, the residual dropped.
return {
  doc = "HPSS with margin 2 (Driedger's HPR): percussive and harmonic, the residual dropped",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then
      error(string.format("strata compare: hpr separates 2 sources (percussive, harmonic), not %d", #refs), 0)
    end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31, power = 2, margin = 2 }
    return { parts.percussive:istft(), parts.harmonic:istft() }
  end,
}
