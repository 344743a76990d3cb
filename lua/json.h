/* JSON for the strata module (strata.json, strata.json_decode, strata.json_null). */
#ifndef ST_JSON_H
#define ST_JSON_H

#include <lua.h>

/* Adds the JSON functions to the table on top of the stack. */
void st_json_register(lua_State *L);

#endif
