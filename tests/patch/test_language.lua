-- The patch language: node functions, method sugar, record fields,
-- arithmetic, evaluation, and errors that name the patch line.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local check, raises = t.check, t.raises

local a = strata.signal { kind = "sine", seconds = 0.5, channels = 2, freq = 440 }
local b = strata.signal { kind = "noise", seconds = 0.25, channels = 2, amplitude = 0.1 }

check("node function returns a handle", tostring(a):match("strata.handle%(signal"), tostring(a))
check("method sugar", a:stft { n_fft = 1024 }:type() == "spectrum", a:stft { n_fft = 1024 }:type())
check("nothing computed before asked", strata.stats().runs == 0, strata.stats().runs)

local facts = a:eval()
check("eval reads rate, shape and duration",
  facts.rate == 44100 and facts.channels == 2 and facts.frames == 22050 and facts.duration == 0.5
  and facts.shape[1] == 2 and facts.shape[2] == 22050, facts.description)
check("peak of a sine", t.near(facts.peak, 0.5, 1e-3), facts.peak)

local sum = (a + b):eval()
check("a + b mixes and pads", sum.frames == 22050 and sum.channels == 2, sum.description)
check("a - a is silent", (a - a):eval().peak == 0, (a - a):eval().peak)
check("a - b is a + b * -1 to the bit, in one mix node",
  ((a - b) - (a + b * -1)):eval().peak == 0 and ((a - b) - (a + b)):eval().peak > 0.1
  and tostring(a - b):match("strata.handle%(mix"), tostring(a - b))
local quiet = strata.signal { kind = "sine", seconds = 0.3, freq = 220 } * 0.25
local runs = strata.stats().runs
check("compute runs the graph and gives the handle back",
  quiet:compute() == quiet and strata.stats().runs > runs and t.near(quiet:eval().peak, 0.125, 1e-3),
  strata.stats().runs)
raises("compute raises the node's error with the patch line", function()
  return strata.signal { seconds = 0.1 }:slice { start = 5 }:compute()
end, "test_language.lua:%d+: slice: start = 5 s is past the end")
check("a * 0.5 halves", t.near((a * 0.5):eval().peak, 0.25, 1e-3), (a * 0.5):eval().peak)
check("0.5 * a halves too", t.near((0.5 * a):eval().peak, 0.25, 1e-3), (0.5 * a):eval().peak)
check("-a + a is silent", (-a + a):eval().peak == 0, "not silent")
check("a / 4", t.near((a / 4):eval().peak, 0.125, 1e-3), (a / 4):eval().peak)
check("gain in dB", t.near(a:gain { db = -6.0206 }:eval().peak, 0.25, 1e-3), "wrong gain")
check("positional parameter", t.near(a:gain(-6.0206):eval().peak, 0.25, 1e-3), "wrong gain")
check("mix of a table", strata.mix { a, a, a }:eval().peak > 1.49, "wrong mix")

local ms = a:midside()
check("record fields by name", ms.mid:type() == "audio" and ms.side:type() == "audio", ms.mid:type())
local back_left = (ms.mid + ms.side):eval()
check("record value", ms:eval().fields[1] == "mid" and ms:eval().fields[2] == "side", "fields")
check("mid + side is left", back_left.channels == 1, back_left.description)
-- sample for sample, on two different channels
local left = strata.signal { kind = "sine", seconds = 0.25, channels = 1, freq = 440 }
local right = strata.signal { kind = "noise", seconds = 0.25, channels = 1, amplitude = 0.3 }
local lr = strata.merge { left, right }:midside()
local err_left = ((lr.mid + lr.side) - left):eval().peak
local err_right = ((lr.mid - lr.side) - right):eval().peak
check("mid + side is left and mid - side is right, sample for sample",
  err_left < 1e-7 and err_right < 1e-7, err_left .. " " .. err_right)

local spec = a:stft { n_fft = 512, hop = 128 }
local s = spec:eval()
check("spectrum shape", s.bins == 257 and s.frames == 1 + 22050 // 128 and s.channels == 2, s.description)
local mag = spec:magnitude():eval()
check("magnitude axes", mag.axes[1] == "channel" and mag.axes[2] == "time" and mag.axes[3] == "freq"
  and mag.shape[3] == 257, table.concat(mag.axes, ","))
check("power is magnitude squared", t.near(spec:power():eval().peak, mag.peak ^ 2, mag.peak ^ 2 * 1e-5), "power")
check("phase within pi", spec:phase():eval().peak <= math.pi + 1e-6, "phase")
check("istft gives the input back", (spec:istft() - a):eval().peak < 1e-5, (spec:istft() - a):eval().peak)
check("istft length parameter", spec:istft { length = 1000 }:eval().frames == 1000, "length")
check("mono is the mean", (a:mono() - (ms.mid)):eval().peak < 1e-7, "mono")
local sl = a:slice { start = 0.1, duration = 0.2 }:eval()
check("slice", sl.frames == 8820, sl.frames)

local runs = strata.stats().runs
a:stft { n_fft = 512, hop = 128 }:eval()
check("same node twice is memoized", strata.stats().runs == runs, strata.stats().runs - runs)

-- errors name this file and line
raises("type error names the line", function() strata.magnitude(a) end,
  "test_language.lua:%d+: magnitude: input in expects spectrum, got audio")
raises("unknown parameter", function() a:stft { n_ffft = 512 } end, "unknown parameter 'n_ffft'")
raises("parameter type", function() a:stft { n_fft = "big" } end, "n_fft must be an integer, not the string \"big\"")
raises("boolean parameter", function() a:stft { center = 1 } end, "center must be a boolean")
raises("hop = n_fft with hann (not invertible)", function() a:stft { n_fft = 512, hop = 512 } end,
  "hop = n_fft = 512 with window = \"hann\": frames that do not overlap")
check("hop = n_fft with hamming is allowed",
  a:stft { n_fft = 512, hop = 512, window = "hamming" }:eval().frames > 0, "refused")
raises("hop larger than n_fft", function() a:stft { n_fft = 512, hop = 1024 } end, "hop = 1024 is larger than n_fft = 512")
raises("adding a number", function() return a + 1 end, "only handles add")
raises("evaluation error names the node's line", function() a:slice { start = 5 }:eval() end,
  "test_language.lua:%d+: slice: start = 5 s is past the end")
raises("midside needs stereo", function() a:mono():midside():eval() end, "midside: needs 2 channels, got 1")
raises("mix of different rates", function()
  (a + strata.signal { rate = 22050 }):eval()
end, "mix: input 2 is at 22050 Hz")
raises("unknown field names the real ones", function() return ms.left end,
  "midside output has no field 'left' %(fields: mid, side%)")
raises("an operator's error names the patch line (a + b at two rates)", function()
  (a + strata.signal { rate = 22050 }):eval()
end, "test_language.lua:%d+: mix: input 2 is at 22050 Hz")
raises("an operator's error names the patch line (m * 2 on an array)", function()
  return a:stft():magnitude() * 2
end, "test_language.lua:%d+: gain: input in expects audio")

local help = strata.help("stft")
check("help comes from the descriptor", help:match("n_fft") and help:match("16 .. 65536"), help)
