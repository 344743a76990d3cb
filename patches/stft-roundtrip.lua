-- strata stft-roundtrip: STFT and back: shows the transform pair is exact
-- usage: strata stft-roundtrip IN OUT [--n-fft N] [--hop H]
-- STFT then ISTFT: writes the result and prints the largest error, which
-- shows the transform pair is exact for these settings.
local strata = require "strata"

local opt = strata.args {
  usage = "IN OUT [--n-fft N] [--hop H] [--window W] | --demo OUT",
  doc = "Transform IN with the STFT and back, write OUT and print the largest sample error.\n" ..
        "With --demo, IN is 10 s of a generated stereo chirp and only OUT is given.",
  positional = { { "input", "audio file to read" }, { "output", "audio file to write", optional = "with --demo, which takes OUT alone" } },
  options = {
    { "n-fft", 2048, "frame length in samples", param = "stft.n_fft" },
    { "hop", 0, "samples between frames (0: n-fft / 4)", param = "stft.hop" },
    { "window", "hann", "hann, sqrt_hann or hamming" },
    { "demo", false, "use a generated signal instead of IN" },
  },
}

local input, out_path
if opt.demo then
  input = strata.signal { kind = "chirp", seconds = 10, channels = 2, freq = 55, freq_end = 16000 }
  out_path = opt.output or opt.input
else
  if not opt.output then strata.usage_error("strata stft-roundtrip", "missing OUTPUT") end
  input = strata.load(opt.input)
  out_path = opt.output
end

local back = input:stft { n_fft = opt.n_fft, hop = opt.hop, window = opt.window }:istft()
back:save(out_path)
local facts = input:eval()
local err = (back - input):eval().peak
print(string.format("%s: %d channel%s, %.2f s at %g Hz; n_fft %d; max abs error %.3g %s",
  out_path, facts.channels, facts.channels == 1 and "" or "s", facts.duration, facts.rate,
  opt.n_fft, err, err < 1e-5 and "(exact)" or "(NOT exact)"))
