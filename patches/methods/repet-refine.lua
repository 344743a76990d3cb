-- REPET followed by one pass of kernel backfitting (Liutkus et al. 2014): the background's
-- model is the period median of REPET's background estimate, the foreground's a 5-frame
-- median along time of its estimate (a held note stays, a drum hit does not), Wiener masks
-- from the two: foreground and background.
return {
  doc = "REPET + one kernel-backfitting pass (Wiener masks from period and time-median models)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-refine separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet { refine = 1, fg_kernel = 5 }
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
