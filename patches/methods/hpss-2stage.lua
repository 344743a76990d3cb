-- Two-stage HPSS in the spirit of FitzGerald et al. (2012) and Tachibana et al.: a long frame
-- (4096) resolves the harmonic partials and takes the harmonic part; what it leaves is split
-- again with a short frame (512), which resolves the onsets, and only that stage's percussive
-- part is called percussive. The second stage's harmonic part returns to the harmonic estimate.
return {
  doc = "two-stage HPSS: 4096-sample frames for the harmonic part, 512 for the percussive part",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: hpss-2stage separates 2 sources, not " .. #refs, 0) end
    local first = mixture:stft { n_fft = 4096, hop = 1024 }:hpss { kernel = 31, power = 2 }
    local harmonic, rest = first.harmonic:istft(), first.percussive:istft()
    local second = rest:stft { n_fft = 512, hop = 128 }:hpss { kernel = 31, power = 2 }
    return { second.percussive:istft(), harmonic + second.harmonic:istft() }
  end,
}
