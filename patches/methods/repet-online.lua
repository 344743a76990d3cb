-- Online REPET-SIM (REPET-Python's simonline: Hamming 2048/1024, 10 s buffer of past frames,
-- separating from the first frame): foreground and background, as the stream would give them.
return {
  doc = "online REPET-SIM (causal, 10 s buffer; what `strata live` streams): foreground and background",
  separate = function(strata, mixture, refs)
    if #refs ~= 2 then error("strata compare: repet-online separates 2 sources (foreground, background), not " .. #refs, 0) end
    local parts = mixture:repet_online {}
    return { parts.foreground, parts.background }
  end,
}
