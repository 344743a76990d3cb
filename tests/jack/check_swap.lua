-- check_swap.lua CAPTURE.wav TONE.wav OFFSET SWAP FADE OLD NEW: strata live
-- played TONE (looped) scaled by OLD, and swapped to NEW x TONE at frame SWAP
-- of its clock with an equal-power crossfade of FADE frames (the tone's
-- position carried on). The capture started OFFSET frames after strata live
-- did. Every captured sample must be what that says, to float rounding:
--   before SWAP  OLD a                      a = the tone at the frame
--   in the fade  OLD a cos(t) + NEW a sin(t), t = (k - SWAP + 1) pi / (2 FADE)
--   after        NEW a
-- Prints the largest error, and the largest step between samples in the
-- fade with its bound: a continuous fade moves no faster than the tone under
-- the larger of the summed gains, plus the gains' own slope.
local strata = require "strata"
local cap = strata.load(arg[1]):samples()
local tone = strata.load(arg[2]):samples()
local offset, swap, fade = tonumber(arg[3]), tonumber(arg[4]), tonumber(arg[5])
local old, new = tonumber(arg[6]), tonumber(arg[7])
if swap - offset < 10 or swap - offset + fade + 10 > #cap then
  error(string.format("the swap (frame %d) is not inside the capture (frames %d to %d)",
    swap, offset, offset + #cap), 0)
end
local worst, worst_at, step = 0, 0, 0
for i = 1, #cap do
  local k = offset + i - 1
  local a = tone[k % #tone + 1]
  local want
  if k < swap then want = old * a
  elseif k < swap + fade then -- (fade 0: a cut)
    local t = (k - swap + 1) * math.pi / (2 * fade)
    want = old * a * math.cos(t) + new * a * math.sin(t)
  else want = new * a end
  local e = math.abs(cap[i] - want)
  if e > worst then worst, worst_at = e, k end
  if k >= swap and k < swap + fade and i > 1 then step = math.max(step, math.abs(cap[i] - cap[i - 1])) end
end
local tone_step, peak = 0, 0
for i = 1, #tone do
  tone_step = math.max(tone_step, math.abs(tone[i % #tone + 1] - tone[i]))
  peak = math.max(peak, math.abs(tone[i]))
end
local bound = tone_step * math.sqrt(old * old + new * new) + peak * (old + new) * math.pi / (2 * math.max(fade, 1))
print(string.format("%d samples, max error %.3g at frame %d, max step in the fade %.4f (bound %.4f)",
  #cap, worst, worst_at, step, bound))
