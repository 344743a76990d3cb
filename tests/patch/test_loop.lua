-- loop and sequence, rendered (strata render runs the same program as strata
-- live, on the bar clock strata.transport sets): a resampled loop lasts
-- exactly its bars at the tempo and repeats sample for sample; a retriggered
-- one plays at its own speed from every cycle's start and is cut at the next;
-- a sequence follows its pattern bar by bar, silent at "-"; bad patterns,
-- mismatched channels and offline use are refused with one clear message.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local dir = t.tmpdir()
local strata_bin = os.getenv("STRATA") or "./strata"
local rate, bar = 48000, 48000 -- 240 bpm, 4 beats a bar: one bar is one second
-- a tone of 0.9 s at 44.1 kHz: resampled, it must last a bar at 48 kHz
strata.signal { kind = "sine", seconds = 0.9, rate = 44100, freq = 330 }:save(dir .. "/a.wav")
-- noise of 1.3 s at 48 kHz: one bar at this tempo (1.3 bars rounds to 1)
strata.signal { kind = "noise", seconds = 1.3, rate = 48000, amplitude = 0.3 }:save(dir .. "/b.wav")

local function render(name, body, seconds)
  local f = io.open(dir .. "/" .. name .. ".lua", "w")
  f:write(string.format([[
local strata = require "strata"
strata.transport { bpm = 240, beats_per_bar = 4 }
local a, b = strata.load("%s/a.wav"), strata.load("%s/b.wav")
%s
]], dir, dir, body))
  f:close()
  local ok = os.execute(string.format("%s --quiet render %s/%s.lua -o %s/%s.wav --seconds %g --rate %d 2> %s/%s.err",
    strata_bin, dir, name, dir, name, seconds, rate, dir, name))
  if not ok then
    local e = io.open(dir .. "/" .. name .. ".err"):read("a")
    return nil, e
  end
  return strata.load(dir .. "/" .. name .. ".wav"):samples()
end

-- resample: the cycle is one bar (48000 samples), and repeats exactly
local y, err = render("resample", "a:loop { bars = 1 }:jack_out()", 3)
t.check("loop: a resampled loop renders", y, err)
if y then
  local worst, peak = 0, 0
  for k = 1, 2 * bar do
    worst = math.max(worst, math.abs(y[k] - y[k + bar]))
    peak = math.max(peak, math.abs(y[k]))
  end
  t.check("loop: a resampled loop repeats every bar sample for sample", worst == 0 and peak > 0.4,
    string.format("max difference %g, peak %g", worst, peak))
  -- stretched, not cut: 0.9 s of a 330 Hz tone is 297 cycles, now over 48000 samples:
  -- count rising zero crossings in one bar
  local crossings = 0
  for k = 2, bar do
    if y[k - 1] < 0 and y[k] >= 0 then crossings = crossings + 1 end
  end
  t.check("loop: the resampled loop fills the bar (297 cycles of the tone in it)",
    math.abs(crossings - 297) <= 1, crossings)
end

-- retrigger: the noise at its own speed, restarted at every bar, cut at 1 s
local noise = strata.load(dir .. "/b.wav"):samples()
y, err = render("retrigger", "b:loop { mode = 'retrigger' }:jack_out()", 2.5)
t.check("loop: a retriggered loop renders", y, err)
if y then
  local worst = 0
  for k = 1, 2 * bar + bar // 2 do
    worst = math.max(worst, math.abs(y[k] - noise[(k - 1) % bar + 1]))
  end
  t.check("loop: a retriggered loop restarts at every bar at its own speed", worst == 0, worst)
end

-- sequence "1 - 2" (retriggered): bar 1 the tone, bar 2 silence, bar 3 the
-- noise, bar 4 the tone again
y, err = render("sequence", "strata.sequence(a, b, { pattern = '1 - 2', mode = 'retrigger' }):jack_out()", 4)
t.check("sequence: renders", y, err)
if y then
  local tone = render("tone", "a:loop { mode = 'retrigger' }:jack_out()", 1)
  local function peak(from, to)
    local p = 0
    for k = from, to do p = math.max(p, math.abs(y[k])) end
    return p
  end
  local same = true
  for k = 1, bar do same = same and y[k] == tone[k] and y[3 * bar + k] == tone[k] end
  t.check("sequence: entry 1 plays the first loop in bars 1 and 4", same)
  t.check("sequence: '-' is a silent bar", peak(bar + 1, 2 * bar) == 0, peak(bar + 1, 2 * bar))
  local worst = 0
  for k = 1, bar do worst = math.max(worst, math.abs(y[2 * bar + k] - noise[k])) end
  t.check("sequence: entry 2 plays the second loop in bar 3", worst == 0, worst)
end

-- refusals, each one line naming the node and what is wrong
local _, e = render("badpattern", "strata.sequence(a, b, { pattern = '1 3' }):jack_out()", 1)
t.check("sequence: a pattern entry beyond the inputs is refused",
  e and e:match("sequence: pattern = \"1 3\": '3' is not an input's number %(1 to 2%) or %-"), e)
strata.signal { kind = "sine", seconds = 1, rate = 48000, channels = 2 }:save(dir .. "/stereo.wav")
_, e = render("channels", "strata.sequence(a, strata.load('" .. dir .. "/stereo.wav'), { pattern = '1 2' }):jack_out()", 1)
t.check("sequence: loops of different channel counts are refused",
  e and e:match("sequence: input 2 has 2 channels, input 1 has 1"), e)
t.raises("loop: offline evaluation is refused", function()
  return strata.signal {}:loop {}:eval()
end, "loop: works only in a stream")
t.raises("loop: a live change outside strata live is refused", function()
  return strata.signal {}:loop {}:stop()
end, "works in strata live")

os.execute("rm -rf '" .. dir .. "'")
