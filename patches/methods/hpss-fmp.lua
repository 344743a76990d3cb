-- HPSS with kernels set in physical units (Mueller's FMP: L_h = 0.2 s along time, L_p = 500 Hz
-- along frequency), the same for every sample rate and STFT size; soft masks, power 2.
return {
  doc = "HPSS with kernels of 0.2 s and 500 Hz (FMP), soft masks: percussive and harmonic",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: hpss-fmp separates 2 sources, not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:hpss { kernel_h_s = 0.2, kernel_p_hz = 500, power = 2 }
    return { parts.percussive:istft(), parts.harmonic:istft() }
  end,
}
