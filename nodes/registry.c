/* The registry: every node type, one line each. A new node is its file in
 * nodes/ and a line here; its Lua function, checks and docs follow. */
#include "../vm/node.h"

#include <string.h>

extern const st_node_type st_node_load, st_node_save, st_node_signal, st_node_stft, st_node_istft,
    st_node_magnitude, st_node_power, st_node_phase, st_node_mix, st_node_gain, st_node_mono,
    st_node_slice, st_node_info, st_node_midside;

static const st_node_type *const registry[] = {
    &st_node_load,  &st_node_save,      &st_node_signal, &st_node_info,    &st_node_stft,
    &st_node_istft, &st_node_magnitude, &st_node_power,  &st_node_phase,   &st_node_mix,
    &st_node_gain,  &st_node_mono,      &st_node_slice,  &st_node_midside, NULL,
};

const st_node_type *const *st_registry(void)
{
    return registry;
}

const st_node_type *st_registry_find(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}
