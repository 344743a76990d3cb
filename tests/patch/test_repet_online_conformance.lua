-- Online REPET-SIM against REPET-Python's simonline (corpus conformance/nussl_repet):
-- Hamming 2048 / 1024, a 10 s buffer (431 slots), silence until it is full; the
-- background in the two stored windows at an SNR of 60 dB or more. Then the stream:
-- `strata render` of the same node equals the offline result, n_fft - 1 samples late.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local nussl = require "nussl_repet"

local fixture = nussl.open("online_repetsim.json", "repet_online conformance")
if not fixture then return end
local ref, root, x = fixture.ref, fixture.root, fixture.input
local rate = nussl.rate
local r = x:repet_online { start = "full" }
for w, span in pairs(ref.signal_windows_samples) do
  local got = r.background:slice { start = span[1] / rate, duration = (span[2] - span[1]) / rate }
  local want = strata.load(string.format("%s/online_background_%s.wav", root, w))
  local snr = nussl.snr_db(got, want)
  t.check(string.format("online background (%s) matches REPET-Python's", w), snr >= 60, string.format("SNR %.1f dB", snr))
  print(string.format("# online background %s: SNR %.1f dB against REPET-Python", w, snr))
end
local silent = r.background:slice { duration = ref.first_processed_sample / rate }:eval().peak
t.check("online background silent until the buffer is full", silent == 0, silent)
local fg = (r.foreground + r.background - x):eval().peak
t.check("online foreground = input - background", fg < 1e-6, fg)
