-- The unet node's properties (no corpus needed): mask shapes, masks in [0, 1] that sum to one,
-- the parts summing back to the mixture, channels separated on their own, no seams where
-- patches meet; one clear error for a model of another rate or STFT, a truncated or hostile
-- model file; `strata vocals` end to end; the shipped model on a generated song it never saw.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local models = os.getenv("STRATA_MODELS") or "models"
local fixture = models .. "/unet_fixture.safetensors" -- random weights, patch 64 bins x 32 frames
local song = strata.testsong { bars = 6, tempo = 120, seed = 11 }
local mix = song.mixture
local spec = mix:stft { n_fft = 2048, hop = 512 }
local info = spec:eval()
local T, F = info.frames, info.bins

local m = spec:unet { model = fixture }:eval()
t.check("masks: source x channel x time x freq",
  m.shape[1] == 2 and m.shape[2] == 1 and m.shape[3] == T and m.shape[4] == F,
  table.concat(m.shape, " x "))

local function samples(h) return h:samples() end
local ratio = samples(spec:unet { model = fixture })
local lo, hi, worst = math.huge, -math.huge, 0
local n = T * F
for i = 1, n do
  local a, b = ratio[i], ratio[n + i]
  lo, hi = math.min(lo, a, b), math.max(hi, a, b)
  worst = math.max(worst, math.abs(a + b - 1))
end
t.check("ratio masks lie in [0, 1]", lo >= 0 and hi <= 1, string.format("[%g, %g]", lo, hi))
t.check("ratio masks sum to one in every bin", worst < 1e-5, worst)
t.check("the masks are not constant", hi - lo > 0.1, string.format("[%g, %g]", lo, hi))
local raw = samples(spec:unet { model = fixture, masks = "raw" })
lo, hi = math.huge, -math.huge
for i = 1, 2 * n do lo, hi = math.min(lo, raw[i]), math.max(hi, raw[i]) end
t.check("raw masks lie in [0, 1]", lo >= 0 and hi <= 1, string.format("[%g, %g]", lo, hi))

local parts = strata.resynth(spec, spec:unet { model = fixture })
local back = (parts[1] + parts[2] - mix):eval().peak
t.check("vocals + accompaniment = mixture", back < 1e-4, back)

-- channels on their own: the left channel of a stereo input gets the masks of the left alone
local stereo = strata.merge { mix, song.drums }
local ms = samples(stereo:stft { n_fft = 2048, hop = 512 }:unet { model = fixture })
local same = true
for i = 1, n do
  if math.abs(ms[i] - ratio[i]) > 1e-6 then same = false end -- source 1, channel 1
  if math.abs(ms[2 * n + i] - ratio[n + i]) > 1e-6 then same = false end -- source 2, channel 1
end
t.check("stereo: each channel is separated on its own", same)

-- no seams: overlapped patches are cross-faded. With overlap 0.5 (32-frame patches every 16
-- frames) frame t is covered by a patch of the grid of overlap 0 (patches at 0, 32, 64...) and
-- by one of the same grid shifted by 16 frames, which is overlap 0 on the input started 16 hops
-- later. Its mask must be their Hann-weighted mean: fade(t mod 32) A(t) + fade((t-16) mod 32)
-- B(t-16), divided by the two weights; each patch's weight falls to ~0 at its edges.
local A = samples(spec:unet { model = fixture, overlap = 0, masks = "raw" })
local later = mix:slice { start = 16 * 512 / 44100 }:stft { n_fft = 2048, hop = 512 }
local TB = later:eval().frames
local B = samples(later:unet { model = fixture, overlap = 0, masks = "raw" })
local faded = samples(spec:unet { model = fixture, overlap = 0.5, masks = "raw" })
local function fade(p) return 0.5 - 0.5 * math.cos(2 * math.pi * (p + 0.5) / 32) end
local worst_fade, jump_hard, jump_faded = 0, 0, 0
for tt = 40, T - 40 do -- 0-based frame tt
  local wa, wb = fade(tt % 32), fade((tt - 16) % 32)
  for f = 1, 64 do
    local want = (wa * A[tt * F + f] + wb * B[(tt - 16) * F + f]) / (wa + wb)
    worst_fade = math.max(worst_fade, math.abs(faded[tt * F + f] - want))
  end
end
t.check("overlapped patches are cross-faded with Hann weights (no seams)", worst_fade < 1e-5 and TB > 0, worst_fade)

-- model files that must be refused with one line naming the file
local dir = t.tmpdir()
local function read(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
end
local good = read(fixture)
local function refused(name, bytes, pattern, input)
  local path = dir .. "/" .. name:gsub("%W", "_") .. ".safetensors"
  write(path, bytes)
  t.raises(name, function() (input or spec):unet { model = path }:eval() end, pattern)
end
-- same-length edits of the JSON header keep every offset right
refused("a model for 22.05 kHz is refused", (good:gsub('"rate_hz":"44100"', '"rate_hz":"22050"')),
  "is for 22050 Hz audio and a hann STFT of n_fft 2048, hop 512; the input is 44100 Hz")
refused("a model for another STFT is refused", (good:gsub('"n_fft":"2048"', '"n_fft":"4096"')),
  "n_fft 4096, hop 512; the input is 44100 Hz, hann, n_fft 2048")
refused("an input STFT of another hop is refused", good, "the input is 44100 Hz, hann, n_fft 2048, hop 256",
  mix:stft { n_fft = 2048, hop = 256 })
refused("an input STFT with another window is refused", good, "sqrt_hann",
  mix:stft { n_fft = 2048, hop = 512, window = "sqrt_hann" })
refused("a truncated model is refused", good:sub(1, #good // 2), "unet: parameter model: .*truncated")
refused("a header length beyond the file is refused", "\255\255\255\255\0\0\0\0{}", "unet: parameter model: ")
refused("a model with a tensor of the wrong shape is refused",
  (good:gsub('"enc1.weight":{"dtype":"F32","shape":%[8,4,5,5%]', '"enc1.weight":{"dtype":"F32","shape":[4,8,5,5]')),
  "model tensor 'enc1.weight' is 4 x 8 x 5 x 5, expected 8 x 4 x 5 x 5")
t.raises("a missing model file is named", function() spec:unet { model = dir .. "/none.safetensors" }:eval() end,
  "none.safetensors: ")

-- strata vocals end to end (the fixture model: fast)
local strata_bin = os.getenv("STRATA") or "./strata"
local input = dir .. "/song.wav"
mix:save { input, subtype = "FLOAT" }
local function run(args)
  local p = io.popen(strata_bin .. " vocals " .. args .. " 2>&1; echo \"status $?\"")
  local out = p:read("a")
  p:close()
  return out, tonumber(out:match("status (%d+)%s*$"))
end
local out, status = run(input .. " -o " .. dir .. "/out --model " .. fixture)
local v, a = strata.load(dir .. "/out/vocals.wav"), strata.load(dir .. "/out/accompaniment.wav")
t.check("strata vocals writes vocals.wav and accompaniment.wav", status == 0 and v:eval().frames == mix:eval().frames, out)
t.check("strata vocals: the two files sum to the input", (v + a - mix):eval().peak < 1e-4)
out, status = run(input .. " -o " .. dir .. "/out2 --model " .. dir .. "/a_truncated_model_is_refused.safetensors")
local lines = select(2, out:gsub("\n", "")) - 1
t.check("strata vocals: a truncated model is one line and status 1",
  status == 1 and lines == 1 and out:match("^strata vocals: unet: parameter model: .*truncated"), out)
t.check("strata vocals: a bad model leaves no output folder behind", not io.open(dir .. "/out2"))
out, status = run(input .. " -o " .. dir .. "/out3 --masks soft")
t.check("strata vocals: a bad --masks is a usage error", status == 2 and out:match("%-%-masks soft"), out)

-- the shipped model on a song it never saw (testsong seeds used in training: 50261206 and up)
local shipped = io.open(models .. "/unet.safetensors")
if shipped then
  shipped:close()
  local test = strata.testsong { bars = 8, tempo = 100, seed = 77 }
  local tspec = test.mixture:stft { n_fft = 2048, hop = 512 }
  local est = strata.resynth(tspec, tspec:unet {})
  local rest = test.drums + test.bass + test.chords
  local s = strata.bsseval(strata.list { test.lead, rest }, strata.list { est[1], est[2] }).sdr:samples()
  print(string.format("# shipped model, testsong seed 77: lead %.2f dB, rest %.2f dB", s[1], s[2]))
  t.check("shipped model: the lead of an unseen generated song above 6 dB SDR", s[1] > 6, s[1])
  t.check("shipped model: the rest above 10 dB SDR", s[2] > 10, s[2])
else
  print("skip shipped model: " .. models .. "/unet.safetensors is absent")
end
os.execute("rm -rf '" .. dir .. "'")
