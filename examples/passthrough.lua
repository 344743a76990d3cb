-- Live input to live output at a gain:  strata live examples/passthrough.lua [DB]
local strata = require "strata"
local input = strata.jack_in { channels = 2 }
input:gain { db = tonumber(arg[1]) or 0 }:jack_out()
