-- REPET-SIM as nussl 1.1.9's RepetSim (cosine similarity, up to 99 repeating frames at least
-- 1 s apart, median model, soft mask, 100 Hz high-pass): foreground and background.
return {
  doc = "REPET-SIM (nussl 1.1.9's RepetSim): foreground and background",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-sim separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet_sim {}
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
