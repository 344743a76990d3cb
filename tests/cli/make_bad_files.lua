-- Writes the broken inputs the bad-input tests feed to strata, into arg[1].
local dir = arg[1]

local function write(name, bytes)
  local f = assert(io.open(dir .. "/" .. name, "wb"))
  f:write(bytes)
  f:close()
end

-- A RIFF/WAVE file; fmt_tag 1 = PCM, 3 = IEEE float. data_size may lie.
local function wav(rate, fmt_tag, bits, samples_bytes, data_size)
  local channels, block = 1, bits // 8
  local fmt = string.pack("<I2I2I4I4I2I2", fmt_tag, channels, rate, rate * block, block, bits)
  local body = "WAVE" .. "fmt " .. string.pack("<I4", #fmt) .. fmt ..
               "data" .. string.pack("<I4", data_size or #samples_bytes) .. samples_bytes
  return "RIFF" .. string.pack("<I4", #body) .. body
end

local function pcm16(n)
  local t = {}
  for i = 1, n do t[i] = string.pack("<i2", math.floor(8000 * math.sin(i * 0.05))) end
  return table.concat(t)
end

local function float32(values)
  local t = {}
  for i, v in ipairs(values) do t[i] = string.pack("<f", v) end
  return table.concat(t)
end

write("good.wav", wav(44100, 1, 16, pcm16(4410)))
write("text.wav", string.rep("this is a text file, not audio\n", 20))
local full = wav(44100, 1, 16, pcm16(4410))
write("truncated.wav", full:sub(1, #full // 2))
write("empty.wav", wav(44100, 1, 16, ""))
local values = {}
for i = 1, 1000 do values[i] = 0.1 * math.sin(i * 0.1) end
values[701] = 0 / 0
write("nan.wav", wav(44100, 3, 32, float32(values)))
write("rate1.wav", wav(1, 1, 16, pcm16(100))) -- read, it failed later in terms that named no file
write("rate100.wav", wav(100, 1, 16, pcm16(5000)))
values[701] = 0.5
values[301] = math.huge
write("inf.wav", wav(44100, 3, 32, float32(values)))
values[301] = 0.5
values[501] = 3e38 -- finite, but no audio: an FFT of it overflows
write("huge.wav", wav(44100, 3, 32, float32(values)))
write("rate0.wav", wav(0, 1, 16, pcm16(100)))
write("rate1M.wav", wav(1000000, 1, 16, pcm16(100)))
write("syntax.lua", "local strata = require 'strata'\nlocal x = strata.load('a.wav'\nprint(x)\n")
write("type.lua", "local strata = require 'strata'\nlocal a = strata.signal{}\nlocal m = strata.magnitude(a)\n")
write("unknown.lua", "local strata = require 'strata'\nlocal a = strata.signal{}\n\nlocal s = a:stft{nfft = 1024}\n")
write("range.lua", "local strata = require 'strata'\nlocal a = strata.signal{}\nlocal s = a:stft{n_fft = 8}\n")
