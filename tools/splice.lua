-- lua5.4 tools/splice.lua FILE NAME < TEXT
-- Replaces the lines between "<!-- begin NAME" and "<!-- end NAME" in FILE
-- with TEXT (used by `make docs` for generated tables inside hand-written docs).
local path, name = arg[1], arg[2]
local text = io.read("a")
local f = assert(io.open(path))
local out, inside, found = {}, false, false
for line in f:lines() do
    if line:find("<!-- end " .. name, 1, true) then inside = false end
    if not inside then out[#out + 1] = line end
    if line:find("<!-- begin " .. name, 1, true) then
        inside, found = true, true
        out[#out + 1] = (text:gsub("\n$", ""))
    end
end
f:close()
if not found then
    io.stderr:write(path .. ": no '<!-- begin " .. name .. "' marker\n")
    os.exit(1)
end
local tmp = path .. ".tmp"
local w = assert(io.open(tmp, "w"))
w:write(table.concat(out, "\n"), "\n")
w:close()
assert(os.rename(tmp, path))
