-- A small harness for patch tests: check(name, condition, why) prints
-- "ok NAME" or "FAIL NAME: why"; raises(name, fn, pattern) checks that fn
-- raises an error matching pattern.
local harness = {}

function harness.check(name, cond, why)
  if cond then print("ok " .. name) else print("FAIL " .. name .. ": " .. tostring(why)) end
end

function harness.raises(name, fn, pattern)
  local ok, err = pcall(fn)
  if ok then
    print("FAIL " .. name .. ": no error")
  elseif not tostring(err):match(pattern) then
    print("FAIL " .. name .. ": error '" .. tostring(err) .. "' does not match '" .. pattern .. "'")
  else
    print("ok " .. name)
  end
end

function harness.tmpdir()
  local p = io.popen("mktemp -d")
  local dir = p:read("l")
  p:close()
  return dir
end

-- The corpus folder `sub` (under $STRATA_CORPUS, else ../shared/corpus) when
-- its file `probe` is there; otherwise prints one skip line for `what` and
-- returns nil, so that the test can stop.
function harness.corpus(sub, probe, what)
  local root = (os.getenv("STRATA_CORPUS") or "../shared/corpus") .. "/" .. sub
  local f = io.open(root .. "/" .. probe)
  if f then
    f:close()
    return root
  end
  print("skip " .. what .. ": " .. root .. " is absent")
end

function harness.near(a, b, tol) return math.abs(a - b) <= tol end

-- Whether two values' samples are the same floats, bit for bit, and why not
-- (for check): the first value that differs, or how many agree.
function harness.identical(a, b)
  local x, y = a:samples(), b:samples()
  if #x ~= #y then return false, string.format("%d values against %d", #x, #y) end
  for i = 1, #x do
    if x[i] ~= y[i] then return false, string.format("value %d: %.9g against %.9g", i, x[i], y[i]) end
  end
  return true, #x .. " values"
end

return harness
