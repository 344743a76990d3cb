-- The U-Net and REPET together, Wiener-style: each source's magnitude is the mixture's times
-- both methods' masks for it (the U-Net's vocals mask and REPET's foreground mask; the
-- accompaniment mask and REPET's background mask), and the final masks are their ratios,
-- m_v = m_u r_f / (m_u r_f + a_u r_b): the two methods' odds multiply, so a bin goes to the
-- vocals when both methods lean that way.
return {
  doc = "U-Net and REPET combined Wiener-style (each source's masks multiplied, then ratio masks)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: unet+repet separates 2 sources (vocals, accompaniment), not " .. #refs, 0) end
    local spec = mixture:stft { n_fft = 2048, hop = 512 }
    local u = spec:unet {}
    local r = spec:repet {}
    local vocals = r.foreground:apply_mask(u, { index = 0 }):magnitude()
    local rest = r.background:apply_mask(u, { index = 1 }):magnitude()
    local parts = strata.resynth(spec, strata.wiener(vocals, rest, { power = 1 }))
    return { parts[1], parts[2] }
  end,
}
