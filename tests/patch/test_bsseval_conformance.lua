-- BSS Eval against mir_eval's fixtures (values from the MATLAB toolbox):
-- all eight cases, blocks Sources, Framewise, Images and Images Framewise,
-- within 0.01 dB. Inputs are built as mir_eval's tests build them.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local json = require "json"
local t = require "harness"

local root = t.corpus("conformance/bsseval_mir_eval", "output01.json", "bsseval conformance")
if not root then return end
local TOL = 0.01

local function wavs(dir)
  local list, k = {}, 0
  while true do
    local path = string.format("%s/%d.wav", dir, k)
    local f = io.open(path)
    if not f then break end
    f:close()
    list[#list + 1] = strata.load { path = path, channels = "mono" } -- mir_eval averages stereo
    k = k + 1
  end
  return list
end

-- mono copied to nchan channels; the copies after the first scaled by gain
local function image(mono, nchan, gain)
  local channels = { mono }
  for _ = 2, nchan do channels[#channels + 1] = mono * gain end
  return nchan == 1 and mono or strata.merge(channels)
end

local function flat(h)
  local values = h:samples()
  return values
end

-- expected may be a list (per source) or a list of lists (source x window)
local function compare(name, got, expected)
  local worst, n = 0, 0
  local flat_expected = {}
  for _, e in ipairs(expected) do
    if type(e) == "table" then for _, x in ipairs(e) do flat_expected[#flat_expected + 1] = x end
    else flat_expected[#flat_expected + 1] = e end
  end
  if #got ~= #flat_expected then
    t.check(name, false, string.format("%d values, expected %d", #got, #flat_expected))
    return
  end
  for i, e in ipairs(flat_expected) do
    local g = got[i]
    local same
    if e ~= e then same = g ~= g
    elseif e == math.huge or e == -math.huge then same = g == e
    else same = math.abs(g - e) <= TOL; worst = math.max(worst, math.abs(g - e)) end
    if not same then
      t.check(name, false, string.format("value %d: %s, expected %s", i, tostring(g), tostring(e)))
      return
    end
    n = n + 1
  end
  t.check(name, true)
end

for _, case in ipairs { "01", "02", "03", "05", "06", "07", "08", "09" } do
  local expected = json.read(root .. "/output" .. case .. ".json")
  local refs, ests = wavs(root .. "/ref" .. case), wavs(root .. "/est" .. case)
  local R, E = strata.list(refs), strata.list(ests)

  local s = strata.bsseval(R, E, { mode = "sources" })
  local x = expected.Sources
  compare("bsseval " .. case .. " sources SDR", flat(s.sdr), x["Source to Distortion"])
  compare("bsseval " .. case .. " sources SIR", flat(s.sir), x["Source to Interference"])
  compare("bsseval " .. case .. " sources SAR", flat(s.sar), x["Source to Artifact"])
  compare("bsseval " .. case .. " sources permutation", flat(s.permutation), x["Source permutation"])

  x = expected.Framewise
  local f = strata.bsseval(R, E, { mode = "sources", window = x.win, hop = x.hop })
  compare("bsseval " .. case .. " framewise SDR", flat(f.frame_sdr), x["Source to Distortion"])
  compare("bsseval " .. case .. " framewise SIR", flat(f.frame_sir), x["Source to Interference"])
  compare("bsseval " .. case .. " framewise SAR", flat(f.frame_sar), x["Source to Artifact"])

  x = expected.Images
  local ri, ei = {}, {}
  for i = 1, #refs do
    ri[i] = image(refs[i], x.nchan, 1)
    ei[i] = image(ests[i], x.nchan, x.gain)
  end
  local RI, EI = strata.list(ri), strata.list(ei)
  local im = strata.bsseval(RI, EI, { mode = "images" })
  compare("bsseval " .. case .. " images SDR", flat(im.sdr), x["Source to Distortion"])
  compare("bsseval " .. case .. " images ISR", flat(im.isr), x["Image to Spatial"])
  compare("bsseval " .. case .. " images SIR", flat(im.sir), x["Source to Interference"])
  compare("bsseval " .. case .. " images SAR", flat(im.sar), x["Source to Artifact"])
  compare("bsseval " .. case .. " images permutation", flat(im.permutation), x["Source permutation"])

  x = expected["Images Framewise"]
  local imf = strata.bsseval(RI, EI, { mode = "images", window = x.win, hop = x.hop })
  compare("bsseval " .. case .. " images framewise SDR", flat(imf.frame_sdr), x["Source to Distortion"])
  compare("bsseval " .. case .. " images framewise ISR", flat(imf.frame_isr), x["Image to Spatial"])
  compare("bsseval " .. case .. " images framewise SIR", flat(imf.frame_sir), x["Source to Interference"])
  compare("bsseval " .. case .. " images framewise SAR", flat(imf.frame_sar), x["Source to Artifact"])
end

-- v4 (museval): with one window the filters fitted on the whole signal are
-- v3's, so the scores must agree; framewise, every window is scored.
for _, case in ipairs { "01", "05", "08" } do
  local R, E = strata.list(wavs(root .. "/ref" .. case)), strata.list(wavs(root .. "/est" .. case))
  local v3 = strata.bsseval(R, E, { mode = "images" })
  local v4 = strata.bsseval(R, E, { mode = "images", version = "v4" })
  local worst = 0
  for _, k in ipairs { "sdr", "sir", "sar", "isr" } do
    local a, b = v3[k]:samples(), v4[k]:samples()
    for i = 1, #a do
      if a[i] == a[i] and math.abs(a[i]) ~= math.huge then worst = math.max(worst, math.abs(a[i] - b[i])) end
    end
  end
  t.check("bsseval " .. case .. " v4 with one window equals v3 images", worst < 1e-3, "max difference " .. worst)
  local f = strata.bsseval(R, E, { mode = "images", version = "v4", window = 2000, hop = 1000 })
  local frames, finite = f.frame_sdr:samples(), true
  for _, x in ipairs(frames) do finite = finite and x == x end
  t.check("bsseval " .. case .. " v4 framewise scores every window", #frames == 7 * #v3.sdr:samples() and finite,
    #frames .. " values")
end
