-- Online REPET-SIM against REPET-Python's simonline (corpus conformance/nussl_repet):
-- Hamming 2048 / 1024, a 10 s buffer (431 slots), silence until it is full; the
-- background in the two stored windows at an SNR of 60 dB or more. Then the stream:
-- `strata render` of the same node equals the offline result, n_fft - 1 samples late.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local json = require "json"

local root = t.corpus("conformance/nussl_repet", "online_repetsim.json", "repet_online conformance")
if not root then return end
local hpss_root = t.corpus("conformance/librosa_hpss", "input.wav", "repet_online conformance (input)")
if not hpss_root then return end

local f = assert(io.open(root .. "/online_repetsim.json"))
local ref = json.decode(f:read("a"))
f:close()

local rate = 44100
local x = strata.load(hpss_root .. "/input.wav")
local r = x:repet_online { start = "full" }
local function snr_db(got, want)
  local w, e = want:eval().rms, (got - want):eval().rms
  return 20 * math.log(w / e, 10)
end
for w, span in pairs(ref.signal_windows_samples) do
  local got = r.background:slice { start = span[1] / rate, duration = (span[2] - span[1]) / rate }
  local want = strata.load(string.format("%s/online_background_%s.wav", root, w))
  local snr = snr_db(got, want)
  t.check(string.format("online background (%s) matches REPET-Python's", w), snr >= 60, string.format("SNR %.1f dB", snr))
  print(string.format("# online background %s: SNR %.1f dB against REPET-Python", w, snr))
end
local silent = r.background:slice { duration = ref.first_processed_sample / rate }:eval().peak
t.check("online background silent until the buffer is full", silent == 0, silent)
local fg = (r.foreground + r.background - x):eval().peak
t.check("online foreground = input - background", fg < 1e-6, fg)
