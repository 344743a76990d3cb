-- strata rpca: split a song into a low-rank background and a sparse foreground (robust PCA)
-- strata rpca IN... -o DIR [--soft] [--iterations N] [--filename T] [--format F] [--subtype S]
local strata = require "strata"

local opt = strata.args {
  usage = "IN... -o DIR [--soft] [--power P] [--iterations N]\n" ..
          "       [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Split each IN into background.wav (the low-rank part of its magnitude spectrogram: the\n" ..
        "accompaniment) and foreground.wav (the sparse part: voice, lead) in DIR (created if\n" ..
        "needed) by robust PCA, as nussl 1.1's RPCA (Huang et al. 2012): inexact ALM, binary masks,\n" ..
        "bins below 100 Hz to the background. Channels and rate are kept. With several inputs\n" ..
        "each gets a folder of its own: DIR/NAME/background.wav.",
  positional = { { "input", "the audio files to split", many = true } },
  writes = "audio",
  options = {
    { "soft", false, "soft masks |L|^p / (|L|^p + |S|^p) instead of binary ones" },
    { "power", 2, "soft mask exponent", param = "rpca.power" },
    { "iterations", 100, "ALM iterations at most", param = "rpca.iterations" },
    { "cutoff", 100, "bins below this frequency (Hz) go to the background", param = "rpca.cutoff_hz" },
    { "n-fft", 2048, "STFT frame length", param = "stft.n_fft" },
    { "hop", 512, "STFT hop", param = "stft.hop" },
  },
}
local paths = strata.output_paths(opt, opt.input, { "background", "foreground" })
for i, input in ipairs(opt.input) do
  local parts = strata.load(input):stft { n_fft = opt.n_fft, hop = opt.hop }:rpca {
    mask = opt.soft and "soft" or "binary", power = opt.power, iterations = opt.iterations,
    cutoff_hz = opt.cutoff,
  }
  strata.write_audio(opt, parts.background:istft(), paths[i].background)
  strata.write_audio(opt, parts.foreground:istft(), paths[i].foreground)
end
