-- strata beat-eval: score estimated beats against reference beats (mir_eval.beat)
-- usage: strata beat-eval REF.txt EST.txt [--json] [--trim]
-- mir_eval.beat's scores, and the downbeat F-measure when both files give bar positions.
local strata = require "strata"

local opt = strata.args {
  usage = "REF.txt EST.txt [--trim] [--json]",
  doc = "Score estimated beats against reference beats as mir_eval.beat does. Beat files hold\n" ..
        "`time bar_position` per line (1 = downbeat) or times only; # starts a comment.",
  positional = { { "reference", "reference beat file" }, { "estimate", "estimated beat file" } },
  options = {
    { "trim", false, "ignore beats before 5 s (mir_eval.beat.evaluate does)" },
    { "window", 0.07, "F-measure tolerance in seconds" },
    { "json", false, "print one JSON object instead of a table" },
  },
}
local ref, est = strata.load_beats(opt.reference), strata.load_beats(opt.estimate)
local m = strata.beat_metrics(ref, est, { trim = opt.trim, window = opt.window })
local rows = {
  { "f_measure", "F-measure" }, { "cemgil", "Cemgil" }, { "cemgil_best", "Cemgil (best metrical level)" },
  { "goto", "Goto" }, { "p_score", "P-score" }, { "cmlc", "CMLc" }, { "cmlt", "CMLt" },
  { "amlc", "AMLc" }, { "amlt", "AMLt" }, { "information_gain", "Information gain" },
  { "downbeat_f_measure", "Downbeat F-measure" },
}
local scores = {}
for _, r in ipairs(rows) do scores[r[1]] = m[r[1]]:number() end
if opt.json then
  print(strata.json(scores))
else
  for _, r in ipairs(rows) do print(string.format("%-30s %.4f", r[2], scores[r[1]])) end
end
