-- The published loop extraction (Smith & Goto 2018, loopextractor's configuration): the unmix
-- method with --preset smith2018.
local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
local unmix = dofile(here .. "/unmix.lua")
return {
  doc = "the published NTD loop extraction (Smith & Goto 2018: ranks 32/40/K, MU, soft mask)",
  separate = function(strata, mixture, refs, context)
    local c = { preset = "smith2018" }
    for k, v in pairs(context or {}) do c[k] = v end
    return unmix.separate(strata, mixture, refs, c)
  end,
}
