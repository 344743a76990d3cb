-- strata vocals: split songs into vocals (the lead) and accompaniment with a trained U-Net
-- usage: strata vocals IN... -o DIR [--model FILE] [--masks ratio|raw] [--power P] [--overlap X]
local strata = require "strata"

local opt = strata.args {
  usage = "IN... -o DIR [--model FILE] [--masks ratio|raw] [--power P] [--overlap X]\n" ..
          "       [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Split each IN into vocals.wav and accompaniment.wav in DIR with a U-Net mask model\n" ..
        "(Jansson et al. 2017; doc/unet.md): the network predicts a mask per source on 0.74 s\n" ..
        "patches of the magnitude spectrogram, and each mask is applied with the mixture's phase.\n" ..
        "Each channel is separated on its own. The shipped model is for 44.1 kHz and an STFT of\n" ..
        "2048/512 (hann): other rates are converted to 44.1 kHz on loading, and the outputs are\n" ..
        "at 44.1 kHz. The shipped model was trained on generated songs only (FluidSynth and\n" ..
        "strata's own sung-like voice): expect it to do best on leads that sing or play a melody\n" ..
        "over a band. With several inputs each gets a folder of its own: DIR/NAME/vocals.wav.",
  positional = { { "input", "the audio files to split", many = true } },
  writes = "audio",
  options = {
    { "model", "", "a model file from tools/train/unet.py (default: the shipped one)" },
    { "masks", "ratio", "ratio (the masks sum to one) or raw (the network's own)" },
    { "power", 1, "exponent of the ratio masks", param = "unet.power" },
    { "overlap", 0.5, "fraction of a patch shared with the next (cross-faded)", param = "unet.overlap" },
  },
}
if opt.masks ~= "ratio" and opt.masks ~= "raw" then
  strata.usage_error(opt.command, "--masks " .. opt.masks .. " is not ratio or raw")
end
local stems = { "vocals", "accompaniment" }
local paths = strata.output_paths(opt, opt.input, stems) -- names checked before any work
for i, input in ipairs(opt.input) do
  local song = strata.load { path = input, rate = 44100 }
  if song:eval().peak == 0 then -- worth a line: both parts will be silent too
    io.stderr:write(string.format("%s: warning: '%s' is silent\n", opt.command, input))
  end
  local spec = song:stft { n_fft = 2048, hop = 512 }
  local masks = spec:unet { model = opt.model, masks = opt.masks, power = opt.power, overlap = opt.overlap }
  local n = masks:eval().shape[1]
  if n ~= 2 then
    error(string.format("%s: the model gives %d masks; vocals needs 2 (vocals, accompaniment)", opt.command, n), 0)
  end
  local parts = strata.resynth(spec, masks)
  for k, stem in ipairs(stems) do strata.write_audio(opt, parts[k], paths[i][stem]) end
end
