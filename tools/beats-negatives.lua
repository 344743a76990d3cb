-- strata run tools/beats-negatives.lua DIR [MODEL ...]: beats found in sounds without a beat
-- (clips from tools/train/beats_negatives.py with seeds no training run uses: sweeps, pads, noise,
-- speech-like sound, hum), per model; every one should give none ("no steady beat found").
local strata = require "strata"
local dir = assert(arg[1], "usage: strata run tools/beats-negatives.lua DIR [MODEL ...]")
local models = { table.unpack(arg, 2) }
if #models == 0 then models = { "" } end
local files = {}
for _, name in ipairs(assert(strata.files(dir))) do
  if name:match("%.wav$") then files[#files + 1] = name end
end
print("| model | clips | clips with beats | beats found |")
print("|---|---|---|---|")
for _, model in ipairs(models) do
  local with, total, which = 0, 0, {}
  for _, name in ipairs(files) do
    local n = #strata.load(dir .. "/" .. name):beats { model = model }:samples()
    if n > 0 then
      with = with + 1
      which[#which + 1] = name:gsub("%.wav$", "") .. ": " .. n
    end
    total = total + n
  end
  print(string.format("| %s | %d | %d | %d %s |", model == "" and "installed" or model, #files, with, total,
    #which > 0 and "(" .. table.concat(which, ", ") .. ")" or ""))
end
