-- strata rpca: split a song into a low-rank background and a sparse foreground (robust PCA)
-- strata rpca IN -o DIR [--soft] [--iterations N]
local strata = require "strata"

local opt = strata.args {
  usage = "IN -o DIR [--soft] [--power P] [--iterations N]",
  doc = "Split IN into background.wav (the low-rank part of its magnitude spectrogram: the\n" ..
        "accompaniment) and foreground.wav (the sparse part: voice, lead) in DIR (created if\n" ..
        "needed) by robust PCA, as nussl 1.1's RPCA (Huang et al. 2012): inexact ALM, binary masks,\n" ..
        "bins below 100 Hz to the background. Channels and rate are kept.",
  positional = { { "input", "the audio file to split" } },
  options = {
    { "o", "", "the folder to write into (created if needed)" },
    { "output", "", "the same as -o" },
    { "soft", false, "soft masks |L|^p / (|L|^p + |S|^p) instead of binary ones" },
    { "power", 2, "soft mask exponent" },
    { "iterations", 100, "ALM iterations at most" },
    { "cutoff", 100, "bins below this frequency (Hz) go to the background" },
    { "n-fft", 2048, "STFT frame length" },
    { "hop", 512, "STFT hop" },
  },
}
local command = "strata rpca"
local dir = opt.o ~= "" and opt.o or opt.output
if dir == "" then error(command .. ": missing -o DIR (see --help)", 0) end
local song = strata.load(opt.input)
local parts = song:stft { n_fft = opt.n_fft, hop = opt.hop }:rpca {
  mask = opt.soft and "soft" or "binary", power = opt.power, iterations = opt.iterations,
  cutoff_hz = opt.cutoff,
}
parts.masks:eval()
local made, why = strata.mkdir(dir) -- mkdir(2), no shell
if not made then error(command .. ": " .. why, 0) end
parts.background:istft():save(dir .. "/background.wav")
parts.foreground:istft():save(dir .. "/foreground.wav")
print(string.format("wrote background.wav, foreground.wav in %s", dir))
