-- The ceiling of the comparison itself: the true stems, returned in reverse order so that the
-- permutation search has work to do. Its scores show what `compare` reports for a perfect method.
return {
  doc = "the true stems themselves, reversed (checks compare's alignment; a ceiling, not a method)",
  oracle = true,
  separate = function(strata, mixture, refs)
    local estimates = {}
    for i = 1, #refs do estimates[#refs + 1 - i] = refs[i] end
    return estimates
  end,
}
