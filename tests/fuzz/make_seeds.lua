-- Writes the hand-made seeds of the harnesses that read text and audio into
-- tests/fuzz/seeds/ (run from the repository: strata run tests/fuzz/make_seeds.lua).
-- The cache seeds come from FUZZ_WRITE_SEEDS=DIR build-fuzz/fuzz/fuzz_cache.
local strata = require "strata"
local root = "tests/fuzz/seeds/"

local function write(name, bytes)
  local f = assert(io.open(root .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- A RIFF/WAVE file: fmt_tag 1 = PCM, 3 = float.
local function wav(rate, fmt_tag, bits, channels, data, data_size)
  local block = bits // 8 * channels
  local fmt = string.pack("<I2I2I4I4I2I2", fmt_tag, channels, rate, rate * block, block, bits)
  local body = "WAVE" .. "fmt " .. string.pack("<I4", #fmt) .. fmt ..
               "data" .. string.pack("<I4", data_size or #data) .. data
  return "RIFF" .. string.pack("<I4", #body) .. body
end
local function samples(fmt, n, f)
  local t = {}
  for i = 1, n do t[i] = string.pack(fmt, f(i)) end
  return table.concat(t)
end

local d = "fuzz_load/"
write(d .. "float-mono.wav", wav(8000, 3, 32, 1, samples("<f", 64, function(i) return math.sin(i / 3) end)))
write(d .. "pcm16-stereo.wav", wav(44100, 1, 16, 2, samples("<i2", 128, function(i) return (i * 517) % 30000 - 15000 end)))
write(d .. "pcm24-3ch.wav", wav(22050, 1, 24, 3, samples("<i3", 96, function(i) return i * 1000 end)))
write(d .. "truncated.wav", wav(44100, 1, 16, 1, samples("<i2", 8, function(i) return i end), 4000))
write(d .. "rate0.wav", wav(0, 1, 16, 1, samples("<i2", 16, function(i) return i end)))
write(d .. "nan.wav", wav(8000, 3, 32, 1, samples("<f", 16, function(i) return i == 5 and 0 / 0 or 0.1 end)))
write(d .. "empty-data.wav", wav(44100, 1, 16, 1, ""))
local tone = strata.signal { seconds = 0.004, rate = 8000, channels = 2 }
for _, ext in ipairs { "aiff", "flac", "au", "caf" } do
  tone:save("tests/fuzz/seeds/" .. d .. "tone." .. ext)
end

d = "fuzz_beats/"
write(d .. "plain.txt", "0.5\n1.0\n1.5\n2.0\n")
write(d .. "labelled.txt", "0.113\t1\n0.829\t2\n1.537\t3\n2.25\t4\n2.96\t1\n")
write(d .. "comments.txt", "# beats\n\n  0.5 1 # first\n1.0\t2\n\r\n1.5 3\r\n")
write(d .. "empty.txt", "")
write(d .. "repeated.txt", "0.5\n0.5\n1.0\n")
write(d .. "edges.txt", "0\n1e-300\n29999.999\n")
write(d .. "bad.txt", "1.0 x\n-1\ninf\nnan\n1e999\n0x10\n")

d = "fuzz_json/"
write(d .. "object.json", '{"a": [1, 2.5, -0.5e2, true, false, null], "b": {"c": "d"}}')
write(d .. "escapes.json", '["x\\"y\\\\z\\/\\b\\f\\n\\r\\t", "\\u00e9\\ud83c\\udfb5", "\xc3\xa9"]')
write(d .. "python.json", '{"sdr": [NaN, Infinity, -Infinity, 1e308, -0.0, 12345678901234567890]}')
write(d .. "nested.json", string.rep("[", 20) .. "0" .. string.rep("]", 20))
write(d .. "bad.json", '{"a": 1,}')
write(d .. "surrogate.json", '"\\udc00\\ud800"')

d = "fuzz_args/"
write(d .. "positional", "in.wav\0out.wav")
write(d .. "options", "in.wav\0-o\0dir\0--n-fft\0512\0--hard\0--x=2.5")
write(d .. "list", "in.wav\0--ref\0a.wav\0b.wav\0--\0--literal")
write(d .. "help", "--help")
write(d .. "bad", "--n-fft\0many\0--hard=1\0--nope\0a\0b\0c")
