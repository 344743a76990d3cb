-- The floor: every estimate is the mixture divided by the number of sources.
return {
  doc = "every estimate is mixture / N (the score any method should beat)",
  separate = function(strata, mixture, refs)
    local estimates = {}
    for i = 1, #refs do estimates[i] = mixture / #refs end
    return estimates
  end,
}
