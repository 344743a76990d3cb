-- beat_metrics against mir_eval's fixtures: mir_eval.beat.evaluate (which
-- trims beats before 5 s) on refNN.txt / estNN.txt, within 1e-6.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local json = require "json"
local t = require "harness"

local root = t.corpus("conformance/beat_metrics_mir_eval", "output00.json", "beat metrics conformance")
if not root then return end
local names = {
  { "f_measure", "F-measure" }, { "cemgil", "Cemgil" }, { "cemgil_best", "Cemgil Best Metric Level" },
  { "goto", "Goto" }, { "p_score", "P-score" }, { "cmlc", "Correct Metric Level Continuous" },
  { "cmlt", "Correct Metric Level Total" }, { "amlc", "Any Metric Level Continuous" },
  { "amlt", "Any Metric Level Total" }, { "information_gain", "Information gain" },
}
for k = 0, 9 do
  local case = string.format("%02d", k)
  local expected = json.read(root .. "/output" .. case .. ".json")
  local m = strata.beat_metrics(strata.load_beats(root .. "/ref" .. case .. ".txt"),
    strata.load_beats(root .. "/est" .. case .. ".txt"), { trim = true })
  for _, pair in ipairs(names) do
    local got, want = m[pair[1]]:number(), expected[pair[2]]
    -- float32 storage: 1e-6 absolute on values of order 1
    t.check(string.format("beat metrics %s %s", case, pair[1]), math.abs(got - want) <= 1e-6,
      string.format("%.9f, expected %.9f", got, want))
  end
end
