-- strata repet: separate the repeating background from the foreground (REPET family, as nussl)
-- strata repet IN... -o DIR [--method repet|refine|pitch|adaptive|sim|online|2dft] [--period S] [--min-period S]
--   [--max-period S] [--hard] [--filename T] [--format F] [--subtype S]
local strata = require "strata"

-- The longest period searched when --max-period is not given: nussl's 8 s for the faithful
-- methods; 12 s for refine and pitch, strata's best, since a four-bar phrase in 4/4 is longer than 8 s
-- below 120 BPM (12 s at 80 BPM) and a song that repeats by four bars then loses its period
-- (generated songs at 85-115 BPM: about 0 dB with 8 s, 13 dB with 12 s; doc/quality.md).
local default_max_period = { repet = 8, refine = 12, pitch = 12, adaptive = 8 }

-- repet goes from the song to both signals in one node (repet_audio: stft, repet_mask, resynth and
-- the song minus the background, the same samples, without holding the spectrum or the mask: 64 MB
-- of fresh pages instead of 286 MB for 180 s of mono; doc/repet.md).
-- refine and adaptive make the background mask alone (repet_mask: the repet node's mask
-- bit for bit, without its two masked spectra); resynth applies it frame by frame inside the
-- inverse STFT and the foreground is the song minus the background, in the time domain (exact:
-- the inverse STFT is, so background + foreground = the song to float rounding). 254 MB of fresh
-- pages and one inverse STFT fewer for 180 s of mono (doc/repet.md).
local mask_methods = {
  refine = function(spec, opt)
    return spec:repet_mask {
      period = opt.period, min_period = opt.min_period, max_period = opt.max_period,
      high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft", refine = 1,
    }
  end,
  adaptive = function(spec, opt)
    return spec:repet_mask {
      min_period = opt.min_period, max_period = opt.max_period, segment_s = 10,
      high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft",
    }
  end,
}
-- the others: the spectrum and the options in, a record with both spectra out
local methods = {
  sim = function(spec, opt)
    return spec:repet_sim { high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft" }
  end,
  pitch = function(spec, opt)
    return spec:repet_pitch {
      period = opt.period, min_period = opt.min_period, max_period = opt.max_period,
      high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft",
    }
  end,
  ["2dft"] = function(spec, opt)
    return spec:ft2d { high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft" }
  end,
}
local names = "repet, refine, pitch, adaptive, sim, online, 2dft"
local opt = strata.args {
  usage = "IN... -o DIR [--method M] [--period S] [--min-period S] [--max-period S] [--hard]\n" ..
          "       [--filename T] [--format wav|flac|ogg] [--subtype PCM_16|PCM_24|FLOAT]",
  doc = "Split each IN into its repeating background and its non-repeating foreground (a voice, a\n" ..
        "lead): DIR/background.wav and DIR/foreground.wav, DIR created if need be (several\n" ..
        "inputs: DIR/NAME/background.wav ...); prints the repeating period (repet, refine, pitch;\n" ..
        "a silent IN has none: it is a warning, and both parts are silent).\n" ..
        "Methods (doc/repet.md):\n" ..
        "  repet     REPET as nussl 1.1.9's Repet: one period, found in the beat spectrum\n" ..
        "  refine    repet, then one pass of kernel backfitting (Wiener masks), periods up to\n" ..
        "            12 s (four bars at 80 BPM) unless --max-period says otherwise\n" ..
        "  pitch     refine, then the lead's pitch keeps its harmonics out of the repeating\n" ..
        "            model (strata's best; periods up to 12 s, as refine)\n" ..
        "  adaptive  a period per 10 s segment (REPET-Python's adaptive REPET)\n" ..
        "  sim       REPET-SIM as nussl's RepetSim: each frame's model from the frames most like it\n" ..
        "  online    online REPET-SIM (REPET-Python's simonline, 10 s of past frames; what\n" ..
        "            `strata live examples/live-repet.lua` streams)\n" ..
        "  2dft      peaks of the 2-D Fourier transform (nussl's FT2D)\n" ..
        "The STFT is nussl's: sqrt-Hann, 2^ceil(log2(0.032 s x rate)) samples (2048 at 44.1 kHz),\n" ..
        "hop a quarter of that (online: its own Hamming frames). Channels and rate are kept.",
  positional = { { "input", "the audio files to split", many = true } },
  writes = "audio",
  options = {
    { "method", "repet", "repet, refine, pitch, adaptive, sim, online or 2dft" },
    { "period", 0, "the repeating period in seconds (0: found in the beat spectrum)", param = "repet_mask.period" },
    { "min-period", 0.8, "shortest period searched, in seconds", param = "repet_mask.min_period" },
    { "max-period", 0, "longest period searched, in seconds, at most a third of the song (0: 12 s for refine and pitch, else nussl's 8 s)", param = "repet_mask.max_period" },
    { "high-pass", 100, "below this frequency (Hz) everything is background", param = "repet_mask.high_pass_hz" },
    { "hard", false, "binary masks instead of soft ones" },
    { "n-fft", 0, "STFT frame length (0: nussl's choice for the rate)", param = "stft.n_fft" },
    { "hop", 0, "STFT hop (0: a quarter of the frame)", param = "stft.hop" },
  },
}
local command = opt.command
if not mask_methods[opt.method] and not methods[opt.method] and opt.method ~= "online"
    and opt.method ~= "repet" then
  strata.usage_error(command, string.format("--method %s is not one of: %s", opt.method, names))
end
if opt.max_period == 0 then opt.max_period = default_max_period[opt.method] end
local paths = strata.output_paths(opt, opt.input, { "background", "foreground" })

for i, input in ipairs(opt.input) do
  local song = strata.load(input)
  local facts = song:eval()
  local rate, silent = facts.rate, facts.peak == 0
  if silent then -- both parts are silent too, and no period repeats: none is printed
    io.stderr:write(string.format("%s: warning: '%s' is silent: nothing to separate\n", command, input))
  end
  local n_fft = opt.n_fft > 0 and opt.n_fft or 2 ^ math.ceil(math.log(0.032 * rate, 2)) // 1
  -- the hop stft uses (--hop 0: its own choice), from the facts of the spectrum of the song's first
  -- frame: the rule stays the node's, and no method that makes its own spectrum pays for this one
  local hop = song:slice { duration = n_fft / rate }:stft { n_fft = n_fft, hop = opt.hop, window = "sqrt_hann" }:eval().hop
  local spec = song:stft { n_fft = n_fft, hop = hop, window = "sqrt_hann" }
  local parts, background, foreground
  if opt.method == "repet" then
    parts = song:repet_audio {
      n_fft = n_fft, hop = hop, window = "sqrt_hann",
      period = opt.period, min_period = opt.min_period, max_period = opt.max_period,
      high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft",
    }
    background, foreground = parts.background, parts.foreground
  elseif opt.method == "online" then
    parts = song:repet_online { high_pass_hz = opt.high_pass, mask = opt.hard and "hard" or "soft" }
    background, foreground = parts.background, parts.foreground
  elseif mask_methods[opt.method] then
    parts = mask_methods[opt.method](spec, opt)
    background = strata.resynth(spec, parts.mask)[1]
    foreground = song - background
  else
    parts = methods[opt.method](spec, opt)
    background, foreground = parts.background:istft(), parts.foreground:istft()
  end
  strata.write_audio(opt, background, paths[i].background)
  strata.write_audio(opt, foreground, paths[i].foreground)
  if (opt.method == "repet" or opt.method == "refine" or opt.method == "pitch") and not silent then
    local period = parts.period:number()
    print(string.format("%speriod %.3f s (%d frames of %d samples)", #opt.input > 1 and input .. ": " or "", period,
      math.floor(period * rate / hop + 0.5), hop))
  end
end
