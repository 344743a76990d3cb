-- Embeds a text file in C as a NUL-terminated char array:
--   lua5.4 tools/embed.lua NAME IN.lua > OUT.c
local name, path = arg[1], arg[2]
local f = assert(io.open(path, "rb"))
local text = f:read("a")
f:close()
local out = { "/* generated from " .. path .. " by tools/embed.lua; do not edit */\n",
              "const char " .. name .. "[] = {\n" }
for i = 1, #text, 16 do
  local row = {}
  for j = i, math.min(i + 15, #text) do row[#row + 1] = tostring(text:byte(j)) end
  out[#out + 1] = "    " .. table.concat(row, ", ") .. ",\n"
end
out[#out + 1] = "    0};\n"
io.write(table.concat(out))
