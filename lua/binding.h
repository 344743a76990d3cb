/* The Lua binding: the `strata` module, made from the registry. */
#ifndef ST_BINDING_H
#define ST_BINDING_H

#include "../vm/graph.h"

#include <lua.h>
#include <stddef.h>

/* `require "strata"`: also the entry point of strata.so. */
int luaopen_strata(lua_State *L);

/* The graph the patches of this Lua state have built. */
struct st_graph *st_lua_graph(lua_State *L);

/* 1 and the node output in *ref when the value at index is a node handle. */
int st_lua_ref_at(lua_State *L, int index, st_ref *ref);

/* A message handler for lua_pcall: an error value that is neither a string
 * nor a {status, message} table (error({})) becomes one that says where it
 * was raised. */
int st_lua_error_handler(lua_State *L);

/* A new Lua state that runs a patch: the standard libraries, the `strata`
 * module (also the global), os.exit replaced by exit_fn, config for its
 * graph, and the global `arg` as lua.c makes it (arg[0] the patch's path,
 * arg[1..argc] the arguments). NULL when out of memory. */
lua_State *st_lua_patch_state(lua_CFunction exit_fn, const st_config *config, const char *path,
                              int argc, char *const *argv);

/* strata live: how h:set(name, value), loop:start(), stop(), mute() and
 * unmute() reach the playing programs. Without it they raise an error. 0,
 * or non-zero with the reason in error. */
typedef int (*st_lua_setter)(void *data, const st_node *node, const char *name, double value,
                             char *error, size_t error_size);
void st_lua_set_live(lua_State *L, st_lua_setter set, void *data);

#endif
