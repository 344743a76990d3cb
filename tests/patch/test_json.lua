-- strata.json and strata.json_decode: strict RFC 8259, the one reader of the
-- runtime and the tests (issue 9.14).
package.path = "tests/patch/?.lua;" .. package.path
local strata = require "strata"
local t = require "harness"
local check, raises = t.check, t.raises
local decode, encode = strata.json_decode, strata.json

local v = decode(' {"a": [1, 2.5, -0.5e2, true, false, null], "b": "x\\"y\\\\z\\u00e9\\ud83c\\udfb5"} ')
check("objects, arrays, numbers, literals", v.a[1] == 1 and v.a[2] == 2.5 and v.a[3] == -50 and
  v.a[4] == true and v.a[5] == false and v.a[6] == strata.json_null and #v.a == 6, encode(v))
check("escapes decode (\\\" is a quote, surrogate pairs)", v.b == 'x"y\\z\u{e9}\u{1f3b5}', v.b)
check("an integer stays an integer", math.type(decode("12345678901")) == "integer", "")

for _, case in ipairs {
  { "trailing garbage", "[1] x", "text after the value" },
  { "1e", "1e", "a digit expected in the exponent" },
  { "leading zero", "01", "text after the value" },
  { "plus sign", "+1", "unexpected character" },
  { "bare fraction", ".5", "unexpected character" },
  { "unterminated string", '"abc', "unterminated string" },
  { "raw control character", '"a\tb"', "control character" },
  { "lone surrogate", '"\\ud800"', "lone high surrogate" },
  { "invalid UTF-8", '"\xff"', "invalid UTF%-8" },
  { "overlong UTF-8", '"\xc0\xaf"', "invalid UTF%-8" },
  { "missing comma", "[1 2]", "',' or ']' expected" },
  { "trailing comma", "[1,]", "unexpected character" },
  { "single quotes", "{'a': 1}", "a string key expected" },
  { "NaN without the option", "NaN", "unexpected character" },
  { "empty text", "", "a value expected" },
  { "deep nesting", string.rep("[", 300) .. string.rep("]", 300), "nesting deeper than 256" },
} do
  raises("refused: " .. case[1], function() decode(case[2]) end, case[3])
end
local p = decode("[NaN, Infinity, -Infinity]", { nan = true })
check("Python's NaN and Infinity with nan = true", p[1] ~= p[1] and p[2] == math.huge and p[3] == -math.huge, "")

check("invalid UTF-8 is written as U+FFFD", encode("a\xffb") == '"a\\ufffdb"', encode("a\xffb"))
check("valid UTF-8 passes through", encode("\u{e9}\u{1f3b5}") == '"\u{e9}\u{1f3b5}"', encode("\u{e9}"))
check("control characters are escaped", encode("a\nb\0") == '"a\\u000ab\\u0000"', encode("a\nb\0"))
check("NaN and infinities are null", encode({ 0 / 0, math.huge }) == "[null, null]", encode({ 0 / 0 }))
check("objects have sorted keys", encode({ b = 1, a = { 1, 2 }, c = {} }) == '{"a": [1, 2], "b": 1, "c": {}}',
  encode({ b = 1, a = { 1, 2 }, c = {} }))
local nasty = { s = "q\"\\\u{7f}\u{e9}", n = -0.125, list = { strata.json_null, false }, [3] = "three" }
local once = encode(nasty)
check("write, read, write gives the same text", encode(decode(once)) == once, once)
local loop = {}
loop.self = loop
raises("a table holding itself", function() encode(loop) end, "nesting deeper than 256")
