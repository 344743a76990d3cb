/* JSON for the strata module: strata.json(value) writes, strata.json_decode
 * reads, both strict RFC 8259 (the one reader the runtime and the tests use).
 *
 * Reading: any byte string; an error names what is wrong and the byte
 * (from 1). Strings must be valid UTF-8 without raw control characters;
 * \u escapes become UTF-8 (a lone surrogate is an error); numbers follow the
 * grammar (no "1e", "01", "+1", ".5"); nothing but white space may follow
 * the value; nesting stops at 256. null is strata.json_null, so arrays keep
 * their length. Python writes NaN, Infinity and -Infinity; json_decode(text,
 * {nan = true}) accepts them.
 * Writing: nil and json_null are null; NaN and infinities are null (JSON has
 * no words for them); numbers keep 10 significant digits, integers all;
 * tables whose keys are 1..n (n > 0) are arrays, others objects with sorted
 * keys; a byte that is not part of valid UTF-8 becomes \ufffd. */
#include "json.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

/* ---- reading ---- */

typedef struct {
    lua_State *L;
    const unsigned char *start, *p, *end;
    int allow_nan, depth;
} reader;

static int fail(reader *r, const char *what)
{
    return luaL_error(r->L, "json: %s at byte %d", what, (int)(r->p - r->start) + 1);
}

static void skip_space(reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int word(reader *r, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) >= n && memcmp(r->p, w, n) == 0) {
        r->p += n;
        return 1;
    }
    return 0;
}

/* Length of the UTF-8 sequence at p (at most left bytes), or 0 when it is not valid. */
static int utf8_length(const unsigned char *p, ptrdiff_t left)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80) return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, min = 0x10000;
    else
        return 0;
    if (left < n) return 0;
    unsigned code = c & (0x3f >> (n - 1));
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0;
        code = code << 6 | (p[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
    return n;
}

static void put_utf8(luaL_Buffer *b, unsigned code)
{
    char s[4];
    int n;
    if (code < 0x80)
        s[0] = (char)code, n = 1;
    else if (code < 0x800)
        s[0] = (char)(0xc0 | code >> 6), s[1] = (char)(0x80 | (code & 0x3f)), n = 2;
    else if (code < 0x10000)
        s[0] = (char)(0xe0 | code >> 12), s[1] = (char)(0x80 | ((code >> 6) & 0x3f)),
        s[2] = (char)(0x80 | (code & 0x3f)), n = 3;
    else
        s[0] = (char)(0xf0 | code >> 18), s[1] = (char)(0x80 | ((code >> 12) & 0x3f)),
        s[2] = (char)(0x80 | ((code >> 6) & 0x3f)), s[3] = (char)(0x80 | (code & 0x3f)), n = 4;
    luaL_addlstring(b, s, (size_t)n);
}

static int hex4(reader *r, unsigned *code)
{
    *code = 0;
    if (r->end - r->p < 4) return 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = r->p[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return 0;
        *code = *code << 4 | d;
    }
    r->p += 4;
    return 1;
}

static void read_string(reader *r)
{
    luaL_Buffer b;
    r->p++; /* the opening quote */
    luaL_buffinit(r->L, &b);
    for (;;) {
        if (r->p >= r->end) fail(r, "unterminated string");
        unsigned c = *r->p;
        if (c == '"') {
            r->p++;
            break;
        }
        if (c < 0x20) fail(r, "control character in a string");
        if (c == '\\') {
            r->p++;
            if (r->p >= r->end) fail(r, "unterminated string");
            unsigned code;
            switch (*r->p++) {
            case '"':
                luaL_addchar(&b, '"');
                break;
            case '\\':
                luaL_addchar(&b, '\\');
                break;
            case '/':
                luaL_addchar(&b, '/');
                break;
            case 'b':
                luaL_addchar(&b, '\b');
                break;
            case 'f':
                luaL_addchar(&b, '\f');
                break;
            case 'n':
                luaL_addchar(&b, '\n');
                break;
            case 'r':
                luaL_addchar(&b, '\r');
                break;
            case 't':
                luaL_addchar(&b, '\t');
                break;
            case 'u':
                if (!hex4(r, &code)) fail(r, "bad \\u escape");
                if (code >= 0xdc00 && code <= 0xdfff) fail(r, "lone low surrogate");
                if (code >= 0xd800 && code <= 0xdbff) {
                    unsigned low;
                    if (!(r->end - r->p >= 2 && r->p[0] == '\\' && r->p[1] == 'u'))
                        fail(r, "lone high surrogate");
                    r->p += 2;
                    if (!hex4(r, &low) || low < 0xdc00 || low > 0xdfff)
                        fail(r, "lone high surrogate");
                    code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
                }
                put_utf8(&b, code);
                break;
            default:
                r->p--;
                fail(r, "bad escape");
            }
            continue;
        }
        int n = utf8_length(r->p, r->end - r->p);
        if (!n) fail(r, "invalid UTF-8 in a string");
        luaL_addlstring(&b, (const char *)r->p, (size_t)n);
        r->p += n;
    }
    luaL_pushresult(&b);
}

static int is_digit(reader *r) { return r->p < r->end && *r->p >= '0' && *r->p <= '9'; }

static void read_number(reader *r)
{
    const unsigned char *first = r->p;
    int integer = 1;
    if (*r->p == '-') r->p++;
    if (!is_digit(r)) fail(r, "a digit expected");
    if (*r->p == '0')
        r->p++;
    else
        while (is_digit(r))
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        integer = 0;
        r->p++;
        if (!is_digit(r)) fail(r, "a digit expected after '.'");
        while (is_digit(r))
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        integer = 0;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) r->p++;
        if (!is_digit(r)) fail(r, "a digit expected in the exponent");
        while (is_digit(r))
            r->p++;
    }
    size_t n = (size_t)(r->p - first);
    char small[64], *text = n < sizeof small ? small : malloc(n + 1);
    if (!text) fail(r, "out of memory");
    memcpy(text, first, n);
    text[n] = 0;
    char *end;
    long long i = integer ? strtoll(text, &end, 10) : 0;
    /* "-0" is the float -0.0, so that writing it again keeps the sign */
    if (integer && *end == 0 && i > -(1LL << 62) && i < (1LL << 62) && !(i == 0 && text[0] == '-'))
        lua_pushinteger(r->L, (lua_Integer)i);
    else
        lua_pushnumber(r->L, strtod(text, NULL));
    if (text != small) free(text);
}

static void read_value(reader *r);

static void enter(reader *r)
{
    if (++r->depth > MAX_DEPTH) fail(r, "nesting deeper than 256");
    luaL_checkstack(r->L, 4, "json: nesting too deep");
    r->p++;
    skip_space(r);
}

static void read_array(reader *r)
{
    enter(r);
    lua_newtable(r->L);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        r->depth--;
        return;
    }
    for (lua_Integer i = 1;; i++) {
        read_value(r);
        lua_rawseti(r->L, -2, i);
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == ']') break;
        fail(r, "',' or ']' expected");
    }
    r->p++;
    r->depth--;
}

static void read_object(reader *r)
{
    enter(r);
    lua_newtable(r->L);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        r->depth--;
        return;
    }
    for (;;) {
        skip_space(r);
        if (r->p >= r->end || *r->p != '"') fail(r, "a string key expected");
        read_string(r);
        skip_space(r);
        if (r->p >= r->end || *r->p != ':') fail(r, "':' expected");
        r->p++;
        read_value(r);
        lua_rawset(r->L, -3); /* a repeated key: the last wins */
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if (r->p < r->end && *r->p == '}') break;
        fail(r, "',' or '}' expected");
    }
    r->p++;
    r->depth--;
}

static void read_value(reader *r)
{
    skip_space(r);
    if (r->p >= r->end) fail(r, "a value expected");
    switch (*r->p) {
    case '{':
        read_object(r);
        return;
    case '[':
        read_array(r);
        return;
    case '"':
        read_string(r);
        return;
    default:
        break;
    }
    if (word(r, "true"))
        lua_pushboolean(r->L, 1);
    else if (word(r, "false"))
        lua_pushboolean(r->L, 0);
    else if (word(r, "null"))
        lua_pushlightuserdata(r->L, NULL);
    else if (r->allow_nan && word(r, "NaN"))
        lua_pushnumber(r->L, NAN);
    else if (r->allow_nan && word(r, "Infinity"))
        lua_pushnumber(r->L, HUGE_VAL);
    else if (r->allow_nan && word(r, "-Infinity"))
        lua_pushnumber(r->L, -HUGE_VAL);
    else if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
        read_number(r);
    else
        fail(r, "unexpected character");
}

static int json_decode(lua_State *L)
{
    size_t n;
    const char *text = luaL_checklstring(L, 1, &n);
    reader r = {L,
                (const unsigned char *)text,
                (const unsigned char *)text,
                (const unsigned char *)text + n,
                0,
                0};
    if (lua_istable(L, 2)) {
        lua_getfield(L, 2, "nan");
        r.allow_nan = lua_toboolean(L, -1);
        lua_pop(L, 1);
    }
    read_value(&r);
    skip_space(&r);
    if (r.p != r.end) fail(&r, "text after the value");
    return 1;
}

/* ---- writing ----
 * Into a growable buffer held by a userdata (freed by __gc, so an error
 * half way leaks nothing): the Lua stack stays free for the walk. */

typedef struct {
    char *data;
    size_t n, cap;
} text;

static int text_gc(lua_State *L)
{
    text *t = lua_touserdata(L, 1);
    free(t->data);
    t->data = NULL;
    return 0;
}

static void add(lua_State *L, text *t, const char *s, size_t n)
{
    if (t->cap - t->n < n) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap - t->n < n)
            cap *= 2;
        char *grown = realloc(t->data, cap);
        if (!grown) luaL_error(L, "strata.json: out of memory");
        t->data = grown;
        t->cap = cap;
    }
    memcpy(t->data + t->n, s, n);
    t->n += n;
}

static void add_str(lua_State *L, text *t, const char *s) { add(L, t, s, strlen(s)); }

static void write_value(lua_State *L, text *t, int index, int depth);

static void write_string(lua_State *L, text *t, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    add(L, t, "\"", 1);
    while (p < end) {
        unsigned c = *p;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            add(L, t, e, 2);
            p++;
        } else if (c < 0x20 || c == 0x7f) {
            char e[8];
            snprintf(e, sizeof e, "\\u%04x", c);
            add_str(L, t, e);
            p++;
        } else {
            int len = utf8_length(p, end - p);
            if (len)
                add(L, t, (const char *)p, (size_t)len), p += len;
            else
                add_str(L, t, "\\ufffd"), p++; /* not UTF-8: the replacement character */
        }
    }
    add(L, t, "\"", 1);
}

static int is_array(lua_State *L, int index, lua_Integer *n)
{
    *n = (lua_Integer)lua_rawlen(L, index);
    if (*n == 0) return 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > *n) {
            lua_pop(L, 1);
            return 0;
        }
    }
    return 1;
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void write_table(lua_State *L, text *t, int index, int depth)
{
    lua_Integer n;
    if (depth > MAX_DEPTH)
        luaL_error(L, "strata.json: nesting deeper than 256 (a table holding itself?)");
    luaL_checkstack(L, 8, "strata.json: nesting too deep");
    if (is_array(L, index, &n)) {
        add(L, t, "[", 1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1) add(L, t, ", ", 2);
            lua_rawgeti(L, index, i);
            write_value(L, t, lua_gettop(L), depth + 1);
            lua_pop(L, 1);
        }
        add(L, t, "]", 1);
        return;
    }
    /* keys as text, sorted: the same table always makes the same text */
    lua_newtable(L);
    int keys = lua_gettop(L);
    lua_Integer n_keys = 0;
    lua_pushnil(L);
    while (lua_next(L, index)) {
        lua_pop(L, 1);
        int type = lua_type(L, -1);
        if (type != LUA_TSTRING && type != LUA_TNUMBER)
            luaL_error(L, "strata.json: a key of type %s has no JSON form", lua_typename(L, type));
        lua_pushvalue(L, -1);
        lua_pushstring(L, lua_tostring(L, -1)); /* the key's text (a number's too) */
        lua_remove(L, -2);
        lua_pushvalue(L, -2);
        lua_rawset(L, keys); /* keys[text] = the key itself */
        n_keys++;
    }
    const char **names = lua_newuserdatauv(L, (size_t)n_keys * sizeof *names + 1, 0);
    lua_Integer k = 0;
    lua_pushnil(L);
    while (lua_next(L, keys)) {
        lua_pop(L, 1);
        if (k < n_keys) names[k++] = lua_tostring(L, -1); /* anchored by the keys table */
    }
    qsort(names, (size_t)k, sizeof *names, compare_keys);
    add(L, t, "{", 1);
    for (lua_Integer i = 0; i < k; i++) {
        if (i > 0) add(L, t, ", ", 2);
        write_string(L, t, names[i], strlen(names[i]));
        add(L, t, ": ", 2);
        lua_getfield(L, keys, names[i]);
        lua_rawget(L, index);
        write_value(L, t, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
    add(L, t, "}", 1);
    lua_pop(L, 2);
}

static void write_value(lua_State *L, text *t, int index, int depth)
{
    char num[64];
    switch (lua_type(L, index)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, index)) {
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(L, index));
        } else {
            double x = lua_tonumber(L, index);
            if (!isfinite(x))
                snprintf(num, sizeof num, "null");
            else
                snprintf(num, sizeof num, "%.10g", x);
        }
        add_str(L, t, num);
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, index, &n);
        write_string(L, t, s, n);
        break;
    }
    case LUA_TBOOLEAN:
        add_str(L, t, lua_toboolean(L, index) ? "true" : "false");
        break;
    case LUA_TTABLE:
        write_table(L, t, index, depth);
        break;
    default: /* nil, json_null, and what JSON cannot say */
        add_str(L, t, "null");
        break;
    }
}

static int json_encode(lua_State *L)
{
    lua_settop(L, 1);
    text *t = lua_newuserdatauv(L, sizeof *t, 0);
    *t = (text){NULL, 0, 0};
    lua_newtable(L);
    lua_pushcfunction(L, text_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    write_value(L, t, 1, 0);
    lua_pushlstring(L, t->data ? t->data : "", t->n);
    return 1;
}

void st_json_register(lua_State *L)
{
    lua_pushcfunction(L, json_encode);
    lua_setfield(L, -2, "json");
    lua_pushcfunction(L, json_decode);
    lua_setfield(L, -2, "json_decode");
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "json_null");
}
