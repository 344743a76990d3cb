-- strata hpss: split audio into harmonic and percussive parts (median-filtering HPSS)
-- usage: strata hpss IN... -o DIR [--kernel K | --kernel-h K --kernel-p K] [--margin M] [--power P] [--hard]
local strata = require "strata"

local opt = strata.args {
  usage = "IN... -o DIR [--kernel K | --kernel-h K --kernel-p K] [--margin M] [--power P] [--hard]\n" ..
          "       [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Split each IN into harmonic.wav and percussive.wav in DIR (and residual.wav when a margin is\n" ..
        "above 1) by median-filtering HPSS, as librosa.decompose.hpss. Channels and rate are kept.\n" ..
        "With several inputs each gets a folder of its own: DIR/NAME/harmonic.wav.\n" ..
        "Kernels count STFT frames and bins, so their reach in seconds and Hz follows the rate and\n" ..
        "--hop/--n-fft: at 44.1 kHz, hop 512 and n_fft 2048, 31 frames are 0.36 s and 31 bins 668 Hz;\n" ..
        "at 22.05 kHz the same numbers reach twice as far in time and half as far in Hz.",
  positional = { { "input", "the audio files to split", many = true } },
  writes = "audio",
  options = {
    { "kernel", 31, "median filter length for both directions", param = "hpss.kernel" },
    { "kernel-h", 0, "harmonic filter length in frames (0: --kernel)", param = "hpss.kernel_h" },
    { "kernel-p", 0, "percussive filter length in bins (0: --kernel)", param = "hpss.kernel_p" },
    { "margin", 1, "Driedger's margin (above 1 leaves a residual)", param = "hpss.margin" },
    { "power", 2, "soft mask exponent", param = "hpss.power" },
    { "hard", false, "binary masks instead of soft ones" },
    { "n-fft", 2048, "STFT frame length", param = "stft.n_fft" },
    { "hop", 512, "STFT hop", param = "stft.hop" },
  },
}
local stems = { "harmonic", "percussive" }
if opt.margin > 1 then stems[3] = "residual" end
local paths = strata.output_paths(opt, opt.input, stems)
for i, input in ipairs(opt.input) do
  local song = strata.load(input)
  if song:eval().peak == 0 then -- worth a line: every part will be silent too
    io.stderr:write(string.format("%s: warning: '%s' is silent\n", opt.command, input))
  end
  local parts = song:stft { n_fft = opt.n_fft, hop = opt.hop }:hpss {
    kernel = opt.kernel, kernel_h = opt.kernel_h, kernel_p = opt.kernel_p,
    margin = opt.margin, power = opt.power, mask = opt.hard and "hard" or "soft",
  }
  for _, stem in ipairs(stems) do strata.write_audio(opt, parts[stem]:istft(), paths[i][stem]) end
end
