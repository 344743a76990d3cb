/* strata.json_decode on any bytes (with and without Python's NaN): a value
 * or an error; a value written with strata.json reads back to the same text. */
#include "../../lua/binding.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

static const char check[] =
    "local strata, text, nan = ...\n"
    "local ok, v = pcall(strata.json_decode, text, { nan = nan })\n"
    "if not ok then\n"
    "  assert(type(v) == 'string' and v:match('^json: .* at byte %d+$'), tostring(v))\n"
    "  return\n"
    "end\n"
    "local once = strata.json(v)\n"
    "local twice = strata.json(strata.json_decode(once))\n"
    "assert(twice == once, 'write, read, write changed the text')\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        luaL_requiref(L, "strata", luaopen_strata, 1);
        lua_pop(L, 1);
    }
    for (int nan = 0; nan < 2; nan++) {
        if (luaL_loadbuffer(L, check, sizeof check - 1, "=fuzz_json")) abort();
        lua_getglobal(L, "strata");
        lua_pushlstring(L, (const char *)data, size);
        lua_pushboolean(L, nan);
        if (lua_pcall(L, 3, 0, 0) != LUA_OK) {
            fprintf(stderr, "%s\n", lua_tostring(L, -1));
            abort();
        }
    }
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
