-- Live online REPET-SIM: the input split into its repeating background and the voice or lead
-- over it, each on its own stereo pair.
--   strata live examples/live-repet.lua [FOREGROUND_DB] [BACKGROUND_DB] [BUFFER_S]
-- Each frame is compared with the last BUFFER_S seconds (default 10) heard; the latency is one
-- frame (n_fft - 1 samples: 43 ms at 48 kHz). Muting the background (-120) leaves the voice.
local strata = require "strata"
local input = strata.jack_in { channels = 2 }
local parts = input:repet_online { buffer_s = tonumber(arg[3]) or 10 }
parts.foreground:gain { db = tonumber(arg[1]) or 0 }:jack_out { name = "foreground" }
parts.background:gain { db = tonumber(arg[2]) or 0 }:jack_out { name = "background" }
