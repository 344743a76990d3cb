-- REPET with the lead's pitch (repet_pitch): REPET and a backfitting pass give a first
-- foreground, whose pitch (harmonic summation) marks the lead's harmonics; the repeating model
-- is the period median of the values the lead leaves free, then REPET's mask and one
-- backfitting pass: foreground and background. Periods up to 12 s, as repet-refine.
return {
  doc = "REPET whose repeating model leaves out the lead's harmonics (pitch by harmonic summation)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-pitch separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet_pitch {}
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
