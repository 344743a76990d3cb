/* strata.args, the patch argument parser: the fuzzer's bytes, cut at zero
 * bytes, are the command line of a patch declaring every kind of option.
 * Any line parses or raises one error naming the command; --help prints
 * and would exit (os.exit is caught here). */
#include "../../lua/binding.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lua_State *L;

static const char patch[] =
    "local strata = ...\n"
    "local ok, r = pcall(strata.args, {\n"
    "  usage = 'IN [OUT] -o DIR', doc = 'fuzzing',\n"
    "  positional = { { 'input', 'in' }, { 'output', 'out', optional = true } },\n"
    "  options = { { 'o', '', 'folder' }, { 'n-fft', 2048, 'size' }, { 'hard', false, 'flag' },\n"
    "              { 'ref', {}, 'files' }, { 'x', 1.5, 'number' } },\n"
    "})\n"
    "if ok then\n"
    "  assert(type(r.input) == 'string' and type(r.n_fft) == 'number' and type(r.hard) == "
    "'boolean')\n"
    "  assert(type(r.ref) == 'table' and type(r.o) == 'string')\n"
    "elseif r ~= 'exit' then\n"
    "  assert(type(r) == 'string' and r:match('^strata fuzz: .* %(see strata fuzz %-%-help%)$'), "
    "tostring(r))\n"
    "end\n";

static int no_exit(lua_State *L)
{
    lua_pushstring(L, "exit");
    return lua_error(L);
}
static int no_print(lua_State *L)
{
    (void)L;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!L) {
        L = luaL_newstate();
        luaL_openlibs(L);
        luaL_requiref(L, "strata", luaopen_strata, 1);
        lua_pop(L, 1);
        lua_getglobal(L, "os");
        lua_pushcfunction(L, no_exit);
        lua_setfield(L, -2, "exit");
        lua_pop(L, 1);
        lua_pushcfunction(L, no_print);
        lua_setglobal(L, "print");
    }
    /* arg = { [0] = "fuzz.lua", pieces... } */
    lua_createtable(L, 16, 1);
    lua_pushstring(L, "fuzz.lua");
    lua_rawseti(L, -2, 0);
    int n = 0;
    for (size_t start = 0; start <= size && n < 64;) {
        const uint8_t *zero = memchr(data + start, 0, size - start);
        size_t end = zero ? (size_t)(zero - data) : size;
        lua_pushlstring(L, (const char *)data + start, end - start);
        lua_rawseti(L, -2, ++n);
        start = end + 1;
    }
    lua_setglobal(L, "arg");
    if (luaL_loadbuffer(L, patch, sizeof patch - 1, "=fuzz_args")) abort();
    lua_getglobal(L, "strata");
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        abort();
    }
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}
