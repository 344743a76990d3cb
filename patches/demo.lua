-- strata demo: the main job on a generated song with known stems, scored
-- usage: strata demo [DIR]. A synthetic song with known stems
-- (testsong) is split by HPSS into percussive and harmonic parts, written to DIR, and scored
-- against the true drums and the sum of the other stems with BSS Eval.
local strata = require "strata"

local opt = strata.args {
  usage = "[DIR]",
  doc = "Separate a generated 16-bar song (drums, bass, chords, lead) into percussive and\n" ..
        "harmonic parts with HPSS, write mixture.wav, percussive.wav and harmonic.wav into DIR\n" ..
        "(default demo-out) and print how close they are to the true stems.",
  positional = { { "dir", "the folder to write into", optional = true } },
  options = { { "bars", 16, "length of the song in bars" } },
}
local dir = opt.dir or "demo-out"
local made, why = strata.mkdir(dir) -- mkdir(2): no shell, any name
if not made then error("strata demo: " .. why, 0) end

local song = strata.testsong { bars = opt.bars, tempo = 120, arrangement = "build" }
local rest = song.bass + song.chords + song.lead
song.mixture:eval() -- the synthesis is not part of the timing
local t0 = strata.now()
local parts = song.mixture:stft { n_fft = 2048, hop = 512 }:hpss { kernel = 31, power = 2 }
local percussive, harmonic = parts.percussive:istft(), parts.harmonic:istft()
percussive:eval()
harmonic:eval()
local seconds = strata.now() - t0

song.mixture:save(dir .. "/mixture.wav")
percussive:save(dir .. "/percussive.wav")
harmonic:save(dir .. "/harmonic.wav")

local scores = strata.bsseval(strata.list { song.drums, rest }, strata.list { percussive, harmonic })
local sdr, sir, sar = scores.sdr:samples(), scores.sir:samples(), scores.sar:samples()
local duration = song.mixture:eval().duration
print(string.format("HPSS of a %.0f s generated song in %.3f s (%.0fx real time); files in %s/", duration, seconds,
  duration / seconds, dir))
print(string.format("  drums vs percussive:  SDR %6.2f dB  SIR %6.2f dB  SAR %6.2f dB", sdr[1], sir[1], sar[1]))
print(string.format("  rest  vs harmonic:    SDR %6.2f dB  SIR %6.2f dB  SAR %6.2f dB", sdr[2], sir[2], sar[2]))
