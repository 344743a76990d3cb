-- Reading and writing files: formats, subtypes, channel selection, slices,
-- resampling and the temporary-file-and-rename rule.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local check, raises = t.check, t.raises
local dir = t.tmpdir()

local x = strata.signal { kind = "chirp", seconds = 2, channels = 2, freq = 100, freq_end = 8000 }

x:save(dir .. "/float.wav")
local back = strata.load(dir .. "/float.wav")
check("float WAV is lossless", (back - x):eval().peak == 0, (back - x):eval().peak)

x:save { path = dir .. "/pcm16.wav", subtype = "PCM_16" }
local err16 = (strata.load(dir .. "/pcm16.wav") - x):eval().peak
check("PCM_16 within one step", err16 <= 1 / 32768 + 1e-7, err16)

x:save(dir .. "/x.flac")
local errflac = (strata.load(dir .. "/x.flac") - x):eval().peak
check("FLAC (PCM_24) within one step", errflac <= 1 / 2 ^ 23 + 1e-7, errflac)

local x48 = strata.signal { kind = "chirp", seconds = 2, channels = 2, freq = 100, freq_end = 8000, rate = 48000 }
for _, ext in ipairs { "ogg", "mp3", "opus", "aiff" } do
  local ok, err = pcall(function() (ext == "opus" and x48 or x):save(dir .. "/x." .. ext) end)
  if ok then
    local y = strata.load(dir .. "/x." .. ext):eval()
    check("write and read " .. ext, y.channels == 2 and y.duration > 1.9, y.description)
  else
    print("skip " .. ext .. ": " .. tostring(err))
  end
end

local left = strata.load { path = dir .. "/float.wav", channels = "1" }:eval()
check("one channel", left.channels == 1, left.description)
local swapped = strata.load { path = dir .. "/float.wav", channels = "2,1" }
check("channels reordered", (swapped:midside().side + x:midside().side):eval().peak < 1e-7, "order")
local mono = strata.load { path = dir .. "/float.wav", channels = "mono" }
check("mono downmix", (mono - x:mono()):eval().peak < 1e-7, "mono")
local part = strata.load { path = dir .. "/float.wav", start = 0.5, duration = 1 }:eval()
check("start and duration", part.frames == 44100, part.frames)
check("start and duration equal slice",
  (strata.load { path = dir .. "/float.wav", start = 0.5, duration = 1 } - x:slice { start = 0.5, duration = 1 }):eval().peak == 0,
  "differs")
local r = strata.load { path = dir .. "/float.wav", rate = 22050 }:eval()
check("resampled rate and length", r.rate == 22050 and r.frames == 44100, r.description)
local tone = strata.signal { kind = "sine", seconds = 1, freq = 1000, amplitude = 0.5 }
tone:save(dir .. "/tone.wav")
local up = strata.load { path = dir .. "/tone.wav", rate = 48000 }
local ref = strata.signal { kind = "sine", seconds = 1, freq = 1000, amplitude = 0.5, rate = 48000 }
local mid_err = (up:slice { start = 0.1, duration = 0.8 } - ref:slice { start = 0.1, duration = 0.8 }):eval().peak
check("resampled sine matches a sine made at the new rate", mid_err < 1e-3, mid_err)

raises("bad channel list", function() strata.load { path = dir .. "/float.wav", channels = "3" }:eval() end,
  "channels = \"3\": the file has 2 channels")
raises("unknown extension", function() x:save(dir .. "/x.xyz") end, "cannot tell the format")
-- a NaN parameter is named "nan" (printf gives "-nan" for 0/0), infinities by their sign
raises("a NaN parameter", function() strata.load { path = dir .. "/float.wav", rate = 0 / 0 }:eval() end,
  "rate = nan is not a finite number")
raises("an infinite parameter", function() strata.load { path = dir .. "/float.wav", rate = -1 / 0 }:eval() end,
  "rate = %-inf is not a finite number")
raises("start past the end", function() strata.load { path = dir .. "/float.wav", start = 9 }:eval() end,
  "start = 9 s is past the end")

local ls, names
raises("opus at 44.1 kHz", function() x:save(dir .. "/bad.opus") end, "Opus only supports sample rates")
ls = io.popen("ls " .. dir)
names = ls:read("a")
ls:close()
-- (the files this command wrote wait under temporary names until it ends)
check("a failed save leaves no temporary file", not names:match("bad%.opus%.tmp%-"), names)
os.execute("rm -rf " .. dir)
