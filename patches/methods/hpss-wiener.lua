-- HPSS with Wiener-style masks of power 1 on the median-filtered estimates (a gentler split
-- than librosa's power 2), margin 1: percussive and harmonic.
return {
  doc = "HPSS with power-1 soft masks: percussive and harmonic",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: hpss-wiener separates 2 sources, not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31, power = 1 }
    return { parts.percussive:istft(), parts.harmonic:istft() }
  end,
}
