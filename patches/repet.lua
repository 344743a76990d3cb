-- strata repet: separate the repeating background from the foreground (REPET, as nussl)
-- strata repet IN -o DIR [--method repet] [--period S] [--min-period S] [--max-period S] [--hard]
local strata = require "strata"

local methods = { repet = true }
local opt = strata.args {
  usage = "IN -o DIR [--method repet] [--period S] [--min-period S] [--max-period S] [--hard]",
  doc = "Split IN into its repeating background and its non-repeating foreground (a voice, a\n" ..
        "lead): DIR/background.wav and DIR/foreground.wav, DIR created if need be; prints the\n" ..
        "repeating period. Methods: repet (Rafii & Pardo 2012, as nussl 1.1.9's Repet: one period\n" ..
        "for the song, found in the beat spectrum). The STFT is nussl's: sqrt-Hann, 2^ceil(log2\n" ..
        "(0.032 s x rate)) samples (2048 at 44.1 kHz), hop a quarter of that. Channels and rate\n" ..
        "are kept (one model per channel, one period from their mean power).",
  positional = { { "input", "the audio file to split" } },
  options = {
    { "o", "", "the folder to write into (created if need be)" },
    { "output", "", "the same as -o" },
    { "method", "repet", "repet" },
    { "period", 0, "the repeating period in seconds (0: found in the beat spectrum)" },
    { "min-period", 0.8, "shortest period searched, in seconds" },
    { "max-period", 8, "longest period searched, in seconds (at most a third of the song)" },
    { "high-pass", 100, "below this frequency (Hz) everything is background" },
    { "hard", false, "binary masks instead of soft ones" },
    { "n-fft", 0, "STFT frame length (0: nussl's choice for the rate)" },
    { "hop", 0, "STFT hop (0: a quarter of the frame)" },
  },
}
local command = "strata repet"
local dir = opt.o ~= "" and opt.o or opt.output
if dir == "" then error(command .. ": missing -o DIR (see --help)", 0) end
if not methods[opt.method] then
  error(string.format("%s: --method %s is not one of: repet (see --help)", command, opt.method), 0)
end

local song = strata.load(opt.input)
local rate = song:eval().rate
local n_fft = opt.n_fft > 0 and opt.n_fft or 2 ^ math.ceil(math.log(0.032 * rate, 2)) // 1
local hop = opt.hop > 0 and opt.hop or n_fft // 4
local spec = song:stft { n_fft = n_fft, hop = hop, window = "sqrt_hann" }
local parts = spec:repet {
  period = opt.period, min_period = opt.min_period, max_period = opt.max_period,
  high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft",
}

local made, why = strata.mkdir(dir) -- mkdir(2), no shell
if not made then error(command .. ": " .. why, 0) end
parts.background:istft():save(dir .. "/background.wav")
parts.foreground:istft():save(dir .. "/foreground.wav")
local period = parts.period:number()
print(string.format("period %.3f s (%d frames of %d samples)", period, math.floor(period * rate / hop + 0.5), hop))
strata.note("wrote background.wav, foreground.wav in %s", dir)
