-- Adaptive REPET (REPET-Python's adaptive): a period for every 10 s stretch (5 s apart), each
-- frame's model the median of the frame and its neighbours 1 and 2 periods away: foreground
-- and background.
return {
  doc = "adaptive REPET (a period per 10 s segment, median of 5 frames a period apart)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-adaptive separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet { segment_s = 10 }
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
