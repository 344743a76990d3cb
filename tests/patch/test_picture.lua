-- picture: a PNG of the right size, written whole (renamed into place), tiles side by side,
-- bad arrays refused in one line.
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"

local dir = t.tmpdir()
-- the width and height in a PNG's IHDR chunk (bytes 17-24, big-endian)
local function png_size(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local head = f:read(24)
  f:close()
  if not head or #head < 24 or head:sub(1, 8) ~= "\137PNG\r\n\26\n" then return nil end
  return string.unpack(">I4I4", head, 17)
end

local song = strata.testsong { bars = 1 }
local mags = song.mixture:stft { n_fft = 256, hop = 128 }:magnitude() -- (1, frames, 129)
local shape = mags:eval().shape
local plan = strata.testsong { bars = 4, arrangement = "build" }.plan -- 4 bars x 4 stems
plan:picture { path = dir .. "/plan.png", transpose = true, cell_width = 10, cell_height = 5 }
local w, h = png_size(dir .. "/plan.png")
t.check("a 2-axis array: columns x cell width by rows x cell height", w == 40 and h == 20,
  string.format("%s x %s", w, h))
mags:picture { path = dir .. "/tiles.png", scale = "db", flip = true, rows = 32, gap = 3 }
w, h = png_size(dir .. "/tiles.png")
t.check("a 3-axis array: one tile per first index, rows averaged down", w == shape[3] and h == 32,
  string.format("%s x %s for %s", w, h, table.concat(shape, " x ")))
local leftovers = io.popen("ls '" .. dir .. "' | grep -c tmp"):read("l")
t.check("no temporary file is left", leftovers == "0", leftovers)
t.raises("a 4-axis array is refused", function()
  song.mixture:stft { n_fft = 256 }:hpss().masks:picture { path = dir .. "/x.png" }
end, "picture of a 4%-axis array")
t.raises("an unwritable path names the file", function()
  plan:picture { path = dir .. "/no/such/dir/x.png" }
end, "cannot write")
os.execute("rm -rf '" .. dir .. "'")
