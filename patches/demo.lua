-- strata demo: the main job, strata unmix, on a generated loop song with known stems, scored
-- usage: strata demo [DIR] [--bars N] [--preset strata|smith2018]. The song (testsong,
-- arrangement "loops": drums, bass, chords and a lead riff entering and leaving by bar) goes
-- through strata unmix; the loops it finds are scored against the true stems with BSS Eval, and
-- its layout against the true plan.
local strata = require "strata"

local here = (arg[0] or ""):match("^(.*)/[^/]*$") or "."
local method = dofile(here .. "/methods/unmix.lua")

local opt = strata.args {
  usage = "[DIR]",
  doc = "Generate a 32-bar loop song (drums, bass, chords, lead riff; parts enter and leave by bar),\n" ..
        "run strata unmix on it with 4 loops, write its files and mixture.wav into DIR (default\n" ..
        "demo-out) and print each loop's SDR against the true stems (BSS Eval v3, best permutation)\n" ..
        "and how its activations follow the true layout (Pearson r per stem, mean).",
  positional = { { "dir", "the folder to write into", optional = true } },
  options = {
    { "bars", 32, "length of the song in bars" },
    { "preset", "strata", "strata or smith2018" },
  },
}
local dir = opt.dir or "demo-out"
local names = { "drums", "bass", "chords", "lead" }
local song = strata.testsong { bars = opt.bars, tempo = 120, arrangement = "loops" }
song.mixture:eval() -- the synthesis is not part of the timing
local downbeats, source = method.downbeats(strata, song.mixture)
if downbeats then -- a build without the tracker's model installed falls back, and says why
  local ok, why = pcall(function() return downbeats:eval() end)
  if not ok then
    print("strata demo: the beat tracker cannot run here (" .. tostring(why):gsub("^.-: ", "") .. ")")
    downbeats = nil
  end
end
if not downbeats then downbeats, source = song.beats, "the song's own beats (no beat tracker here)" end

local t0 = strata.now()
local tracked = source == "strata's beat tracker"
if tracked then source = source .. ", bar grid checked against the song's repetition" end
local run = method.build(strata, song.mixture, downbeats, { loops = #names, preset = opt.preset, print = print,
                                                            regrid = tracked })
local layout = method.write(strata, run, dir, { downbeats = source, preset = opt.preset })
local seconds = strata.now() - t0
song.mixture:save(dir .. "/mixture.wav")

local refs = {}
for i, n in ipairs(names) do refs[i] = song[n] end
local scores = strata.bsseval(strata.list(refs), run.stems)
local sdr, sir, sar, perm = scores.sdr:samples(), scores.sir:samples(), scores.sar:samples(),
  scores.permutation:samples()

-- layout: each true stem's on/off per bar against its matched loop's activation
local plan = song.plan:samples()
local bars = run.cube.bars:samples()
local function pearson(a, b)
  local n, ma, mb = #a, 0, 0
  for i = 1, n do ma, mb = ma + a[i] / n, mb + b[i] / n end
  local sab, saa, sbb = 0, 0, 0
  for i = 1, n do
    sab, saa, sbb = sab + (a[i] - ma) * (b[i] - mb), saa + (a[i] - ma) ^ 2, sbb + (b[i] - mb) ^ 2
  end
  if saa == 0 or sbb == 0 then return nil end
  return sab / math.sqrt(saa * sbb)
end
-- the song's bar b (2 s each at 120 BPM) lies in the model's bar whose span holds its middle
local function model_bar(b)
  local middle = (b - 0.5) * 2.0
  for m = 1, run.n_bars do
    if middle >= bars[2 * m - 1] and middle < bars[2 * m] then return m end
  end
  return run.n_bars
end
local duration = song.mixture:eval().duration
print(string.format("strata unmix of a %.0f s generated loop song in %.2f s (%.0fx real time), downbeats: %s",
  duration, seconds, duration / seconds, source))
print(string.format("  %-8s %-8s %8s %8s %8s %9s", "stem", "loop", "SDR", "SIR", "SAR", "layout r"))
local mean_sdr, mean_r, n_r = 0, 0, 0
for i, n in ipairs(names) do
  local k = math.tointeger(perm[i]) + 1
  local truth, found = {}, {}
  for b = 1, opt.bars do
    truth[b] = plan[(b - 1) * #names + i]
    found[b] = layout.loops[k].activation[model_bar(b)]
  end
  local r = pearson(found, truth)
  if r then mean_r, n_r = mean_r + r, n_r + 1 end
  mean_sdr = mean_sdr + sdr[i] / #names
  print(string.format("  %-8s %-8s %8.2f %8.2f %8.2f %9s", n, layout.loops[k].name, sdr[i], sir[i], sar[i],
    r and string.format("%.2f", r) or "-"))
end
print(string.format("  %-8s %-8s %8.2f %26s %.2f", "mean", "", mean_sdr, "", n_r > 0 and mean_r / n_r or 0))
print(string.format("files: %s/loops/ (one instance per loop), %s/stems/, layout.json, layout.png, loops.png, " ..
  "beats.txt, mixture.wav", dir, dir))
