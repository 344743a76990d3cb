-- strata eval: score estimated sources against references (BSS Eval v3/v4, SI-SDR)
-- usage: strata eval --ref A.wav B.wav ... --est X.wav Y.wav ... [--images] [--window S --hop S] [--json]
-- BSS Eval v3 as mir_eval 0.7 computes it, with SI-SDR and SD-SDR.
local strata = require "strata"

local opt = strata.args {
  usage = "--ref A.wav B.wav ... --est X.wav Y.wav ... [--v4] [--images] [--window S --hop S] [--json] [--trim]",
  doc = "Score estimated sources against reference sources with BSS Eval v3 (mir_eval 0.7's numbers),\n" ..
        "or v4 (museval's) with --v4.\n" ..
        "Entry i scores reference i against the estimate the permutation gives it, as mir_eval orders\n" ..
        "its results. Sources mode mixes each file to mono; --images keeps the channels and adds ISR.",
  options = {
    { "ref", {}, "reference files, one per source" },
    { "est", {}, "estimate files, as many" },
    { "images", false, "bss_eval_images: multichannel, with ISR" },
    { "v4", false, "BSS Eval v4 (museval): filters fitted once on the whole signal, then framewise energies" },
    { "window", 0, "framewise window in seconds (0: no framewise scores)" },
    { "hop", 0, "framewise hop in seconds (0: the window)" },
    { "no-permutation", false, "score estimate i against reference i" },
    { "trim", false, "cut every file to the shortest instead of refusing different lengths" },
    { "json", false, "print one JSON object instead of a table" },
  },
}
local command = "strata eval"
if type(opt.ref) ~= "table" or #opt.ref == 0 then strata.usage_error(command, "no --ref files") end
if type(opt.est) ~= "table" or #opt.est == 0 then strata.usage_error(command, "no --est files") end
if #opt.ref ~= #opt.est then
  strata.usage_error(command, string.format("%d references but %d estimates", #opt.ref, #opt.est))
end

local function load_all(paths)
  local list = {}
  for i, path in ipairs(paths) do
    list[i] = strata.load { path = path, channels = opt.images and "all" or "mono" }
  end
  return list
end
local refs, ests = load_all(opt.ref), load_all(opt.est)
local rate = refs[1]:eval().rate
local scores = strata.bsseval(strata.list(refs), strata.list(ests), {
  mode = opt.images and "images" or "sources",
  version = opt.v4 and "v4" or "v3",
  permutation = not opt.no_permutation,
  window = math.floor(opt.window * rate + 0.5),
  hop = math.floor(opt.hop * rate + 0.5),
  trim = opt.trim,
})

local function values(h) return h:samples() end
-- the node speaks of its parameter (trim = true); the user gave options
local computed, why = pcall(function() return scores.sdr:eval() end)
if not computed then error((tostring(why):gsub("trim = true", "--trim")), 0) end
local sdr, sir, sar, isr = values(scores.sdr), values(scores.sir), values(scores.sar), values(scores.isr)
local si, sd, perm = values(scores.si_sdr), values(scores.sd_sdr), values(scores.permutation)
local n_windows = scores.frame_sdr:eval().shape[2]

if opt.json then
  local sources, framewise = {}, {}
  for i = 1, #sdr do
    sources[i] = { sdr = sdr[i], sir = sir[i], sar = sar[i], si_sdr = si[i], sd_sdr = sd[i] }
    if opt.images then sources[i].isr = isr[i] end
    perm[i] = math.tointeger(perm[i])
  end
  if opt.window > 0 then
    for _, name in ipairs { "sdr", "sir", "sar", "isr", "permutation" } do
      if name ~= "isr" or opt.images then
        local flat, rows = values(scores["frame_" .. name]), {}
        for i = 1, #sdr do
          rows[i] = {}
          for w = 1, n_windows do rows[i][w] = flat[(i - 1) * n_windows + w] end
        end
        framewise[name] = rows
      end
    end
    framewise.window = opt.window
    framewise.hop = opt.hop > 0 and opt.hop or opt.window
  end
  print(strata.json { sources = sources, permutation = perm, framewise = framewise })
  return
end

local function name(path) return path:match("([^/]+)$") end
local header = string.format("%-6s %-22s %-22s %8s %8s %8s %8s %8s", "source", "reference", "estimate",
  "SDR", "SIR", "SAR", "SI-SDR", "SD-SDR")
if opt.images then header = header .. string.format(" %8s", "ISR") end
print(header)
for i = 1, #sdr do
  local line = string.format("%-6d %-22s %-22s %8.2f %8.2f %8.2f %8.2f %8.2f", i, name(opt.ref[i]),
    name(opt.est[math.tointeger(perm[i]) + 1]), sdr[i], sir[i], sar[i], si[i], sd[i])
  if opt.images then line = line .. string.format(" %8.2f", isr[i]) end
  print(line)
end
local mean = 0
for i = 1, #sdr do mean = mean + sdr[i] / #sdr end
print(string.format("mean SDR %.2f dB%s", mean, opt.window > 0
  and string.format("; %d windows of %g s (--json gives them)", n_windows, opt.window) or ""))
