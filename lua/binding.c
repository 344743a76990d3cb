/* The `strata` Lua module.
 *
 * Every registered node type becomes a function: its inputs are handles,
 * then optional positional parameters (in descriptor order) and a table of
 * named ones. It returns a handle: a node output of the Lua state's one
 * graph. Handles have methods (every node, with the handle as first input),
 * fields (a record's outputs by name), arithmetic (+, -, * and / by a number)
 * and eval(), which computes the value and returns what it is.
 */
#include "binding.h"
#include "json.h"

#include "../vm/dirs.h"
#include "../vm/graph.h"
#include "../vm/outputs.h"

#include <dirent.h>
#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define GRAPH_KEY  "strata.graph"
#define HANDLE     "strata.handle"
#define MAX_ARGS   64
#define MAX_INPUTS 256

extern const char st_lua_library[]; /* lua/strata.lua, embedded at build time */

typedef struct {
    st_graph *graph;
} graph_box;

typedef struct {
    st_ref ref;
} handle;

static st_graph *graph_of(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, GRAPH_KEY);
    graph_box *box = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return box->graph;
}

st_graph *st_lua_graph(lua_State *L) { return graph_of(L); }

static int graph_gc(lua_State *L)
{
    graph_box *box = lua_touserdata(L, 1);
    st_graph_free(box->graph);
    box->graph = NULL;
    return 0;
}

static handle *to_handle(lua_State *L, int index) { return luaL_testudata(L, index, HANDLE); }

int st_lua_ref_at(lua_State *L, int index, st_ref *ref)
{
    handle *h = to_handle(L, index);
    if (h) *ref = h->ref;
    return h != NULL;
}

static int push_handle(lua_State *L, st_ref ref)
{
    handle *h = lua_newuserdatauv(L, sizeof *h, 0);
    h->ref = ref;
    luaL_setmetatable(L, HANDLE);
    return 1;
}

/* "patch.lua:12" for the nearest Lua code up the stack: the caller of a node
 * function, or the line whose operator (m * 2, a + b) made the node through
 * a metamethod and call_node. Empty when no Lua code is on the stack. */
static void where_of(lua_State *L, char *buf, size_t size)
{
    lua_Debug ar;
    buf[0] = 0;
    for (int level = 1; lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(buf, size, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
}

/* Raises "where: message" (message already names the node). */
static int raise_at(lua_State *L, const char *where, const char *message)
{
    if (where[0])
        lua_pushfstring(L, "%s: %s", where, message);
    else
        lua_pushstring(L, message);
    return lua_error(L);
}

/* Converts the Lua value at index into a parameter, checking its kind. */
static void to_arg(lua_State *L, const st_node_type *t, const char *name, int index, st_arg *a,
                   const char *where)
{
    char message[512];
    const st_param *d = st_param_find(t, name, NULL);
    a->name = name;
    if (!d) {
        a->is_string = 0; /* st_graph_add names the unknown parameter */
        a->num = 0;
        return;
    }
    int lt = lua_type(L, index);
    if (d->kind == ST_P_BOOL && lt == LUA_TBOOLEAN) {
        a->is_string = 0;
        a->num = lua_toboolean(L, index);
    } else if (d->kind == ST_P_STRING && lt == LUA_TSTRING) {
        a->is_string = 1;
        a->str = lua_tostring(L, index);
    } else if ((d->kind == ST_P_NUMBER || d->kind == ST_P_INT) && lt == LUA_TNUMBER) {
        a->is_string = 0;
        a->num = lua_tonumber(L, index);
    } else {
        static const char *const kinds[] = {"", "number", "integer", "boolean", "string"};
        snprintf(message, sizeof message, "%s: parameter %s must be a%s %s, not %s%s%s%s", t->name,
                 name, d->kind == ST_P_INT ? "n" : "", kinds[d->kind],
                 lt == LUA_TSTRING ? "the string \"" : luaL_typename(L, index),
                 lt == LUA_TSTRING ? lua_tostring(L, index) : "", lt == LUA_TSTRING ? "\"" : "",
                 lt == LUA_TNUMBER ? "" : "");
        raise_at(L, where, message);
    }
}

/* Evaluates ref now; raises the evaluation error (it names its own line). */
static st_value *force(lua_State *L, st_ref ref)
{
    st_graph *g = graph_of(L);
    st_value *v = st_graph_eval(g, ref);
    if (!v) {
        lua_pushstring(L, st_graph_error(g));
        lua_error(L);
    }
    return v;
}

/* The function of one node type; upvalue 1 is its descriptor. */
static int node_call(lua_State *L)
{
    const st_node_type *t = lua_touserdata(L, lua_upvalueindex(1));
    char where[256];
    where_of(L, where, sizeof where);
    st_ref inputs[MAX_INPUTS];
    st_arg args[MAX_ARGS];
    int n_inputs = 0, n_args = 0, n_positional = 0, top = lua_gettop(L);
    int n_params = st_param_count(t->params);

    for (int i = 1; i <= top; i++) {
        handle *h = to_handle(L, i);
        if (h) {
            if (n_positional)
                return raise_at(L, where, "inputs must come before positional parameters");
            if (n_inputs == MAX_INPUTS) return raise_at(L, where, "too many inputs");
            inputs[n_inputs++] = h->ref;
        } else if (lua_istable(L, i)) {
            /* array part: more inputs, then positional parameters
             * (x:save{"o.wav", subtype = "PCM_16"}); hash part: named ones */
            for (lua_Integer k = 1; lua_rawgeti(L, i, k) != LUA_TNIL; k++) {
                handle *e = to_handle(L, -1);
                if (e && !n_positional) {
                    if (n_inputs == MAX_INPUTS) return raise_at(L, where, "too many inputs");
                    inputs[n_inputs++] = e->ref;
                } else if (!e && !lua_istable(L, -1) && n_positional < n_params) {
                    if (n_args == MAX_ARGS) return raise_at(L, where, "too many parameters");
                    to_arg(L, t, t->params[n_positional++].name, -1, &args[n_args++], where);
                } else {
                    char message[512], names[256] = "";
                    for (int p = 0; p < n_params; p++)
                        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                                 p ? ", " : "", t->params[p].name);
                    snprintf(message, sizeof message,
                             "%s: element %lld of the table is a %s; %s takes its inputs, then its "
                             "parameters in order (%s) or by name",
                             t->name, (long long)k, luaL_typename(L, -1), t->name, names);
                    return raise_at(L, where, message);
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1);
            lua_pushnil(L);
            while (lua_next(L, i)) {
                if (lua_type(L, -2) == LUA_TSTRING) {
                    if (n_args == MAX_ARGS) return raise_at(L, where, "too many parameters");
                    to_arg(L, t, lua_tostring(L, -2), -1, &args[n_args++], where);
                }
                lua_pop(L, 1); /* the value; strings stay alive in the table */
            }
        } else if (!lua_isnil(L, i)) {
            if (n_positional >= n_params) {
                char message[256];
                snprintf(message, sizeof message, "%s: unexpected argument %d (a %s)", t->name, i,
                         luaL_typename(L, i));
                return raise_at(L, where, message);
            }
            if (n_args == MAX_ARGS) return raise_at(L, where, "too many parameters");
            to_arg(L, t, t->params[n_positional++].name, i, &args[n_args++], where);
        }
    }
    st_graph *g = graph_of(L);
    st_node *n = st_graph_add(g, t, inputs, n_inputs, args, n_args, where);
    if (!n) return raise_at(L, where, st_graph_error(g));
    st_ref ref = {n, -1};
    if (t->sink) st_value_unref(force(L, ref));
    return push_handle(L, ref);
}

/* ---- handle methods ---- */

static void set_number(lua_State *L, const char *key, double x)
{
    lua_pushnumber(L, x);
    lua_setfield(L, -2, key);
}

static void set_integer(lua_State *L, const char *key, lua_Integer x)
{
    lua_pushinteger(L, x);
    lua_setfield(L, -2, key);
}

static void push_facts(lua_State *L, const st_value *v)
{
    lua_newtable(L);
    lua_pushstring(L, st_type_name(v->type));
    lua_setfield(L, -2, "type");
    char line[512];
    st_value_describe(v, line, sizeof line);
    lua_pushstring(L, line);
    lua_setfield(L, -2, "description");
    switch (v->type) {
    case ST_AUDIO: {
        const st_audio *a = &v->u.audio;
        double peak = 0, sum = 0;
        for (int c = 0; c < a->n_channels; c++)
            for (int64_t t = 0; t < a->n_frames; t++) {
                double x = a->channel[c][t];
                peak = fabs(x) > peak || isnan(x) ? fabs(x) : peak;
                sum += x * x;
            }
        set_integer(L, "channels", a->n_channels);
        set_integer(L, "frames", a->n_frames);
        set_number(L, "rate", a->rate_hz);
        set_number(L, "duration", (double)a->n_frames / a->rate_hz);
        set_number(L, "peak", peak);
        set_number(L, "rms", a->n_frames ? sqrt(sum / ((double)a->n_frames * a->n_channels)) : 0);
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, a->n_channels);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, a->n_frames);
        lua_rawseti(L, -2, 2);
        lua_setfield(L, -2, "shape");
        break;
    }
    case ST_SPECTRUM: {
        const st_spectrum *s = &v->u.spectrum;
        set_integer(L, "bins", s->n_bins);
        set_integer(L, "frames", s->n_frames);
        set_integer(L, "channels", s->n_channels);
        set_integer(L, "n_fft", s->n_fft);
        set_integer(L, "hop", s->hop_samples);
        set_number(L, "rate", s->rate_hz);
        set_number(L, "duration", (double)s->length_samples / s->rate_hz);
        lua_createtable(L, 3, 0);
        lua_pushinteger(L, s->n_bins);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, s->n_frames);
        lua_rawseti(L, -2, 2);
        lua_pushinteger(L, s->n_channels);
        lua_rawseti(L, -2, 3);
        lua_setfield(L, -2, "shape");
        break;
    }
    case ST_ARRAY: {
        const st_array *a = &v->u.array;
        double peak = 0;
        for (int64_t i = 0; i < a->n_elems; i++)
            peak = fabs(a->data[i]) > peak ? fabs(a->data[i]) : peak;
        set_number(L, "peak", peak);
        lua_createtable(L, a->n_axes, 0);
        for (int i = 0; i < a->n_axes; i++) {
            lua_pushinteger(L, a->shape[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "shape");
        lua_createtable(L, a->n_axes, 0);
        for (int i = 0; i < a->n_axes; i++) {
            lua_pushstring(L, a->axis[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "axes");
        break;
    }
    case ST_EVENTS:
        set_integer(L, "events", v->u.events.n_events);
        break;
    case ST_RECORD: {
        const st_record *r = &v->u.record;
        lua_createtable(L, r->n_fields, 0);
        for (int i = 0; i < r->n_fields; i++) {
            lua_pushstring(L, r->name ? r->name[i] : "");
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "fields");
        break;
    }
    default:
        break;
    }
}

/* h:compute(): the value now, without eval's facts (their peak and rms read
 * every sample: tens of ms for a song); gives the handle back. */
static int handle_compute(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    st_value_unref(force(L, h->ref));
    lua_settop(L, 1);
    return 1;
}

static int handle_eval(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    st_value *v = force(L, h->ref);
    push_facts(L, v);
    st_value_unref(v);
    return 1;
}

/* h:samples([channel]): one channel of audio, or an array's elements, as a table;
 * for events, the times and a second table of labels. */
static int handle_samples(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    st_value *v = force(L, h->ref);
    const float *data = NULL;
    int64_t n = 0;
    if (v->type == ST_AUDIO) {
        lua_Integer c = luaL_optinteger(L, 2, 1);
        if (c < 1 || c > v->u.audio.n_channels) {
            st_value_unref(v);
            return luaL_error(L, "samples: channel %d does not exist", (int)c);
        }
        data = v->u.audio.channel[c - 1];
        n = v->u.audio.n_frames;
    } else if (v->type == ST_ARRAY) {
        data = v->u.array.data;
        n = v->u.array.n_elems;
    } else if (v->type == ST_EVENTS) {
        lua_createtable(L, (int)v->u.events.n_events, 0);
        for (int64_t i = 0; i < v->u.events.n_events; i++) {
            lua_pushnumber(L, v->u.events.time_s[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_createtable(L, (int)v->u.events.n_events, 0); /* and the labels */
        for (int64_t i = 0; i < v->u.events.n_events; i++) {
            lua_pushinteger(L, v->u.events.label[i]);
            lua_rawseti(L, -2, i + 1);
        }
        st_value_unref(v);
        return 2;
    } else {
        st_value_unref(v);
        return luaL_error(L, "samples: a %s has no samples", st_type_name(v->type));
    }
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, data[i]);
        lua_rawseti(L, -2, i + 1);
    }
    st_value_unref(v);
    return 1;
}

static int handle_type(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    lua_pushstring(L, st_type_name(st_ref_type(h->ref)));
    return 1;
}

static int handle_tostring(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    const st_node_type *t = st_node_type_of(h->ref.node);
    lua_pushfstring(L, "strata.handle(%s%s%s: %s)", t->name, h->ref.port >= 0 ? "." : "",
                    h->ref.port >= 0 ? t->outputs[h->ref.port].name : "",
                    st_type_name(st_ref_type(h->ref)));
    return 1;
}

/* h:number(): the value of a one-element array (a score). */
static int handle_number(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    st_value *v = force(L, h->ref);
    int ok = v->type == ST_ARRAY && v->u.array.n_elems == 1;
    double x = ok ? v->u.array.data[0] : 0;
    st_value_unref(v);
    if (!ok) return luaL_error(L, "number: the value is not a one-element array");
    lua_pushnumber(L, x);
    return 1;
}

/* ---- live changes: h:set(name, value), loop:start() ... ---- */

#define LIVE_KEY "strata.live"

typedef struct {
    st_lua_setter set;
    void *data;
} live_box;

void st_lua_set_live(lua_State *L, st_lua_setter set, void *data)
{
    live_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->set = set;
    box->data = data;
    lua_setfield(L, LUA_REGISTRYINDEX, LIVE_KEY);
}

/* Changes a streaming parameter of the node while strata live plays it. */
static int live_set(lua_State *L, const char *name, double value)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    lua_getfield(L, LUA_REGISTRYINDEX, LIVE_KEY);
    live_box *box = lua_touserdata(L, -1);
    lua_pop(L, 1);
    const st_node_type *t = st_node_type_of(h->ref.node);
    if (!box)
        return luaL_error(L, "%s: a live change (%s) works in strata live, while the patch plays",
                          t->name, name);
    char error[300] = "";
    if (box->set(box->data, h->ref.node, name, value, error, sizeof error))
        return luaL_error(L, "%s", error);
    lua_settop(L, 1);
    return 1;
}

static int handle_set(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);
    return live_set(L, name, luaL_checknumber(L, 3));
}
static int handle_start(lua_State *L) { return live_set(L, "playing", 1); }
static int handle_stop(lua_State *L) { return live_set(L, "playing", 0); }
static int handle_mute(lua_State *L) { return live_set(L, "muted", 1); }
static int handle_unmute(lua_State *L) { return live_set(L, "muted", 0); }

static const luaL_Reg handle_methods[] = {{"eval", handle_eval},
                                          {"compute", handle_compute},
                                          {"samples", handle_samples},
                                          {"number", handle_number},
                                          {"type", handle_type},
                                          {"set", handle_set},
                                          {"start", handle_start},
                                          {"stop", handle_stop},
                                          {"mute", handle_mute},
                                          {"unmute", handle_unmute},
                                          {NULL, NULL}};

static int call_node(lua_State *L, const char *name, int n_args);

/* h.name: a method, a node function (h becomes its first input) or an output. */
static int handle_index(lua_State *L)
{
    handle *h = luaL_checkudata(L, 1, HANDLE);
    if (lua_type(L, 2) == LUA_TNUMBER) { /* list[i]: an item node */
        lua_Integer i = luaL_checkinteger(L, 2);
        lua_settop(L, 1);
        lua_newtable(L);
        lua_pushinteger(L, i);
        lua_setfield(L, -2, "index");
        return call_node(L, "item", 2);
    }
    const char *key = luaL_checkstring(L, 2);
    for (const luaL_Reg *m = handle_methods; m->name; m++)
        if (strcmp(m->name, key) == 0) {
            lua_pushcfunction(L, m->func);
            return 1;
        }
    const st_node_type *t = st_node_type_of(h->ref.node);
    int n_out = st_port_count(t->outputs);
    if (h->ref.port < 0 && n_out > 1)
        for (int i = 0; i < n_out; i++)
            if (strcmp(t->outputs[i].name, key) == 0)
                return push_handle(L, (st_ref){h->ref.node, i});
    lua_getfield(L, lua_upvalueindex(1), key); /* the module table */
    if (lua_isfunction(L, -1)) return 1;
    if (h->ref.port < 0 && n_out > 1) { /* name the fields there are */
        char fields[512] = "";
        for (int i = 0; i < n_out; i++)
            snprintf(fields + strlen(fields), sizeof fields - strlen(fields), "%s%s", i ? ", " : "",
                     t->outputs[i].name);
        return luaL_error(L, "%s output has no field '%s' (fields: %s)", t->name, key, fields);
    }
    return luaL_error(L, "%s output has no field or method '%s'", t->name, key);
}

/* Arithmetic makes mix and gain nodes, as if the patch had called them. */
static int call_node(lua_State *L, const char *name, int n_args)
{
    const st_node_type *t = st_registry_find(name);
    lua_pushlightuserdata(L, (void *)t);
    lua_pushcclosure(L, node_call, 1);
    lua_insert(L, -n_args - 1);
    lua_call(L, n_args, 1);
    return 1;
}

static void push_gain(lua_State *L, int handle_index, double factor)
{
    lua_pushvalue(L, handle_index);
    lua_newtable(L);
    lua_pushnumber(L, factor);
    lua_setfield(L, -2, "factor");
    call_node(L, "gain", 2);
}

static int handle_add(lua_State *L)
{
    if (!to_handle(L, 1) || !to_handle(L, 2))
        return luaL_error(L, "only handles add; to scale, multiply by a number");
    lua_settop(L, 2);
    return call_node(L, "mix", 2);
}

static int handle_sub(lua_State *L)
{
    if (!to_handle(L, 1) || !to_handle(L, 2))
        return luaL_error(L, "only handles subtract; to scale, multiply by a number");
    lua_settop(L, 2);
    lua_newtable(L);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "subtract");
    return call_node(L, "mix", 3);
}

static int handle_mul(lua_State *L)
{
    int h = to_handle(L, 1) ? 1 : 2;
    int k = 3 - h;
    if (!lua_isnumber(L, k)) return luaL_error(L, "a handle multiplies by a number only");
    push_gain(L, h, lua_tonumber(L, k));
    return 1;
}

static int handle_div(lua_State *L)
{
    if (!to_handle(L, 1) || !lua_isnumber(L, 2) || lua_tonumber(L, 2) == 0)
        return luaL_error(L, "a handle divides by a non-zero number only");
    push_gain(L, 1, 1.0 / lua_tonumber(L, 2));
    return 1;
}

static int handle_unm(lua_State *L)
{
    push_gain(L, 1, -1.0);
    return 1;
}

lua_State *st_lua_patch_state(lua_CFunction exit_fn, const st_config *config, const char *path,
                              int argc, char *const *argv)
{
    lua_State *L = luaL_newstate();
    if (!L) return NULL;
    luaL_openlibs(L);
    luaL_requiref(L, "strata", luaopen_strata, 1); /* also the global `strata` */
    lua_pop(L, 1);
    lua_getglobal(L, "os");
    lua_pushcfunction(L, exit_fn);
    lua_setfield(L, -2, "exit");
    lua_pop(L, 1);
    *st_graph_config(st_lua_graph(L)) = *config;
    lua_createtable(L, argc, 1);
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
    return L;
}

int st_lua_error_handler(lua_State *L)
{
    if (lua_type(L, 1) == LUA_TSTRING) return 1;
    if (lua_istable(L, 1)) {
        lua_getfield(L, 1, "message");
        int has_message = lua_isstring(L, -1);
        lua_pop(L, 1);
        if (has_message) return 1;
    }
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++)
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            lua_pushfstring(L, "%s:%d: the patch raised an error that is not a string (a %s)",
                            ar.short_src, ar.currentline, luaL_typename(L, 1));
            return 1;
        }
    lua_pushfstring(L, "the patch raised an error that is not a string (a %s)",
                    luaL_typename(L, 1));
    return 1;
}

/* ---- module functions ---- */

static int module_configure(lua_State *L)
{
    st_config *config = st_graph_config(graph_of(L));
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "threads") != LUA_TNIL) {
        lua_Integer n = luaL_checkinteger(L, -1);
        luaL_argcheck(L, n >= 1 && n <= 64, 1, "threads must be 1 to 64");
        config->n_threads = (int)n;
    }
    if (lua_getfield(L, 1, "quiet") != LUA_TNIL) config->quiet = lua_toboolean(L, -1);
    if (lua_getfield(L, 1, "cache") != LUA_TNIL) config->no_cache = !lua_toboolean(L, -1);
    /* the stream clock's tempo and meter: what strata.transport sets */
    if (lua_getfield(L, 1, "bpm") != LUA_TNIL) {
        lua_Number bpm = luaL_checknumber(L, -1);
        luaL_argcheck(L, bpm >= 1 && bpm <= 999, 1, "bpm must be 1 to 999");
        config->bpm = bpm;
    }
    if (lua_getfield(L, 1, "beats_per_bar") != LUA_TNIL) {
        lua_Integer n = luaL_checkinteger(L, -1);
        luaL_argcheck(L, n >= 1 && n <= 64, 1, "beats_per_bar must be 1 to 64");
        config->beats_per_bar = (int)n;
    }
    lua_settop(L, 0);
    lua_newtable(L);
    set_integer(L, "threads", config->n_threads);
    lua_pushboolean(L, config->quiet);
    lua_setfield(L, -2, "quiet");
    lua_pushboolean(L, !config->no_cache);
    lua_setfield(L, -2, "cache");
    return 1;
}

static int module_stats(lua_State *L)
{
    st_graph_stats s = st_graph_get_stats(graph_of(L));
    lua_newtable(L);
    set_integer(L, "runs", s.runs);
    set_integer(L, "memo_hits", s.memo_hits);
    set_integer(L, "disk_hits", s.disk_hits);
    set_integer(L, "disk_misses", s.disk_misses);
    set_integer(L, "disk_writes", s.disk_writes);
    set_integer(L, "reused", s.reused); /* taken over from the playing graph by a live reload */
    return 1;
}

/* strata.help(name): the help text of a node, as `strata nodes NAME` prints it. */
static void append_text(void *data, const char *text) { luaL_addstring((luaL_Buffer *)data, text); }

static int module_help(lua_State *L)
{
    const st_node_type *t = st_registry_find(luaL_checkstring(L, 1));
    if (!t) return luaL_error(L, "no node called '%s'", lua_tostring(L, 1));
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    st_node_help(t, lua_toboolean(L, 2), append_text, &b);
    luaL_pushresult(&b);
    return 1;
}

/* strata.now(): monotonic seconds, for timing methods against each other. */
static int module_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
    return 1;
}

/* A module function's answer, as os.rename gives it: true, or nil and the
 * reason. Returns the number of values pushed. */
static int push_status(lua_State *L, int status, const char *error)
{
    if (status == ST_OK) {
        lua_pushboolean(L, 1);
        return 1;
    }
    lua_pushnil(L);
    lua_pushstring(L, error);
    return 2;
}

/* strata.mkdir(path): true, or nil and the reason (as os.rename answers). */
static int module_mkdir(lua_State *L)
{
    char error[600];
    return push_status(L, st_make_dirs(luaL_checkstring(L, 1), 0777, error, sizeof error), error);
}

/* strata.write_file(path, text): writes a text (or any bytes) the way every
 * strata output is written (vm/outputs.h): a temporary file made beside it
 * with a unique name, never through a symlink, flushed and renamed into
 * place, keeping an old file's mode, and part of the command's output set.
 * A file a node of the patch reads is refused, as save refuses it.
 * true, or nil and the reason. */
static int module_write_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    size_t size;
    const char *text = luaL_checklstring(L, 2, &size);
    char error[4400];
    st_output o = {.fd = -1};
    st_graph *g = graph_of(L);
    int status = st_graph_check_output(g, NULL, path);
    if (status != ST_OK)
        snprintf(error, sizeof error, "%s", st_graph_error(g));
    else
        status = st_output_open(&o, path, error, sizeof error);
    for (size_t done = 0; status == ST_OK && done < size;) {
        ssize_t n = write(o.fd, text + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            snprintf(error, sizeof error, "cannot write '%s': %s", path,
                     n < 0 ? strerror(errno) : "nothing written");
            status = ST_ERR;
        } else {
            done += (size_t)n;
        }
    }
    if (o.fd >= 0 || status == ST_OK) status = st_output_close(&o, status, error, sizeof error);
    return push_status(L, status, error);
}

/* strata.param_range(node, param): the kind ("number" or "integer"), min and
 * max of a node's numeric parameter, from its descriptor: what a ready
 * command checks an option against (strata.args' param). */
static int module_param_range(lua_State *L)
{
    const char *node = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
    const st_node_type *t = st_registry_find(node);
    if (!t) return luaL_error(L, "no node called '%s'", node);
    const st_param *d = st_param_find(t, name, NULL);
    if (!d || (d->kind != ST_P_NUMBER && d->kind != ST_P_INT))
        return luaL_error(L, "%s has no numeric parameter '%s'", node, name);
    lua_pushstring(L, d->kind == ST_P_INT ? "integer" : "number");
    lua_pushnumber(L, d->min);
    lua_pushnumber(L, d->max);
    return 3;
}

/* strata.can_write(folder): whether strata.mkdir(folder) and files in it
 * could be made, without making anything (vm/dirs.h); true, or nil and the
 * reason. */
static int module_can_write(lua_State *L)
{
    char error[4400];
    return push_status(L, st_dirs_check(luaL_checkstring(L, 1), error, sizeof error), error);
}

/* strata.commit(): moves the files the command has written so far into
 * place now, as its successful end would (vm/outputs.h), so that a command
 * that then exits non-zero keeps them (compare's table with a failed
 * method). true, or nil and the reason. */
static int module_commit(lua_State *L)
{
    char error[4400];
    return push_status(L, st_outputs_checkpoint(error, sizeof error), error);
}

/* strata.say_written(line): prints line once the command's files are in
 * place (vm/outputs.h; at once outside an output set). strata.note_written
 * (lua/strata.lua) formats it and keeps --quiet. */
static int module_say_written(lua_State *L)
{
    st_outputs_say(stdout, luaL_checkstring(L, 1));
    return 0;
}

/* strata.file_kind(path): "file", "folder", "pipe" (a FIFO: process
 * substitution, read once) or "other"; or nil and the reason. */
static int module_file_kind(lua_State *L)
{
    struct stat st;
    if (stat(luaL_checkstring(L, 1), &st) != 0) {
        lua_pushnil(L);
        lua_pushstring(L, strerror(errno));
        return 2;
    }
    lua_pushstring(L, S_ISREG(st.st_mode)    ? "file"
                      : S_ISDIR(st.st_mode)  ? "folder"
                      : S_ISFIFO(st.st_mode) ? "pipe"
                                             : "other");
    return 1;
}

/* strata.reads(path): whether a node of the patch reads that file (the same
 * file, by device and inode), as save and write_file check before replacing. */
static int module_reads(lua_State *L)
{
    lua_pushboolean(L, st_graph_reads_file(graph_of(L), luaL_checkstring(L, 1)));
    return 1;
}

/* The folder part of an output path ("." when it has none) into folder, and
 * its last name. */
static const char *split_output(const char *path, char *folder, size_t size)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(folder, size, ".");
        return path;
    }
    snprintf(folder, size, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return slash + 1;
}

/* strata.same_output(a, b): whether writing a and writing b would replace one
 * file: the same name in the same folder (device and inode). An output is
 * replaced, never written through a symlink (vm/outputs.h), so the folder and
 * the name are its identity, not the file they name now. */
static int module_same_output(lua_State *L)
{
    char folder_a[4096], folder_b[4096];
    const char *name_a = split_output(luaL_checkstring(L, 1), folder_a, sizeof folder_a);
    const char *name_b = split_output(luaL_checkstring(L, 2), folder_b, sizeof folder_b);
    struct stat a, b;
    lua_pushboolean(L, strcmp(name_a, name_b) == 0 && stat(folder_a, &a) == 0 &&
                           stat(folder_b, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino);
    return 1;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* strata.files(folder): the sorted names in a folder, without . and ..; or
 * nil and the reason. No shell, so any folder name works. */
static int module_files(lua_State *L)
{
    const char *folder = luaL_checkstring(L, 1);
    DIR *dir = opendir(folder);
    if (!dir) {
        lua_pushnil(L);
        lua_pushfstring(L, "cannot read the folder '%s': %s", folder, strerror(errno));
        return 2;
    }
    lua_newtable(L); /* holds the strings while they are sorted */
    int n = 0;
    for (struct dirent *e; (e = readdir(dir)) != NULL;)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            lua_pushstring(L, e->d_name);
            lua_rawseti(L, -2, ++n);
        }
    closedir(dir);
    const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, -2, i + 1);
        names[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    qsort(names, (size_t)n, sizeof *names, compare_strings);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushstring(L, names[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg module_functions[] = {{"configure", module_configure},
                                            {"mkdir", module_mkdir},
                                            {"write_file", module_write_file},
                                            {"reads", module_reads},
                                            {"same_output", module_same_output},
                                            {"files", module_files},
                                            {"stats", module_stats},
                                            {"help", module_help},
                                            {"now", module_now},
                                            {"say_written", module_say_written},
                                            {"file_kind", module_file_kind},
                                            {"can_write", module_can_write},
                                            {"param_range", module_param_range},
                                            {"commit", module_commit},
                                            {NULL, NULL}};

int luaopen_strata(lua_State *L)
{
    /* the graph, freed when the state closes */
    graph_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->graph = st_graph_new();
    if (!box->graph) return luaL_error(L, "strata: out of memory");
    lua_newtable(L);
    lua_pushcfunction(L, graph_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, GRAPH_KEY);

    lua_newtable(L); /* the module */
    for (const st_node_type *const *t = st_registry(); *t; t++) {
        lua_pushlightuserdata(L, (void *)*t);
        lua_pushcclosure(L, node_call, 1);
        lua_setfield(L, -2, (*t)->name);
    }
    luaL_setfuncs(L, module_functions, 0);
    st_json_register(L);
    lua_pushstring(L, STRATA_VERSION);
    lua_setfield(L, -2, "version");

    luaL_newmetatable(L, HANDLE);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, handle_index, 1);
    lua_setfield(L, -2, "__index");
    static const luaL_Reg meta[] = {{"__add", handle_add}, {"__sub", handle_sub},
                                    {"__mul", handle_mul}, {"__div", handle_div},
                                    {"__unm", handle_unm}, {"__tostring", handle_tostring},
                                    {NULL, NULL}};
    luaL_setfuncs(L, meta, 0);
    lua_pop(L, 1);

    /* the Lua side of the library extends the module */
    if (luaL_loadbuffer(L, st_lua_library, strlen(st_lua_library), "=strata.lua") != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
    return 1;
}
