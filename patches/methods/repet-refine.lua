-- REPET followed by one pass of kernel backfitting (Liutkus et al. 2014): the background's
-- model is the period median of REPET's background estimate, the foreground's a 5-frame
-- median along time of its estimate (a held note stays, a drum hit does not), Wiener masks
-- from the two: foreground and background. The period is searched up to 12 s, not nussl's
-- 8 s: a four-bar phrase in 4/4 is longer than 8 s below 120 BPM (12 s at 80 BPM), and songs
-- that repeat by four bars then lose their period (generated songs at 85-115 BPM: 0 dB -> 13 dB).
return {
  doc = "REPET + one kernel-backfitting pass (Wiener masks from period and time-median models)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-refine separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet { refine = 1, fg_kernel = 5, max_period = 12 }
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
