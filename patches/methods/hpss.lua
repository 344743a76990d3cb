-- HPSS (librosa's: kernel 31, power 2, soft masks, margin 1): percussive and harmonic.
return {
  doc = "HPSS (librosa's: kernel 31, power 2, soft masks, margin 1): percussive and harmonic",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then
      error(string.format("strata compare: hpss separates 2 sources (percussive, harmonic), not %d", #refs), 0)
    end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31, power = 2, margin = 1 }
    return { parts.percussive:istft(), parts.harmonic:istft() }
  end,
}
