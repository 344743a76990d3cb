-- Live HPSS: the input split into harmonic and percussive parts, each on its own stereo pair.
--   strata live examples/live-hpss.lua [HARMONIC_DB] [PERCUSSIVE_DB] [LOOKAHEAD_FRAMES]
-- A lookahead of 15 frames (half the kernel, about 174 ms at 44.1 kHz) gives exactly the
-- offline result; 0 is causal (lowest latency, a softer harmonic estimate).
local strata = require "strata"
local input = strata.jack_in { channels = 2 }
local parts = input:stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31, lookahead = tonumber(arg[3]) or 15 }
parts.harmonic:istft():gain { db = tonumber(arg[1]) or 0 }:jack_out { name = "harmonic" }
parts.percussive:istft():gain { db = tonumber(arg[2]) or 0 }:jack_out { name = "percussive" }
