-- REPET as nussl 1.1.9 computes it (period from the beat spectrum between 0.8 and 8 s,
-- median model, soft mask, 100 Hz high-pass): foreground and background.
return {
  doc = "REPET (nussl 1.1.9's Repet): foreground (non-repeating) and background (repeating)",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:stft { n_fft = 2048, hop = 512 }:repet {}
    return { parts.foreground:istft(), parts.background:istft() }
  end,
}
