/* The registry: every node type, one line each. A new node is its file in
 * nodes/ and a line here; its Lua function, checks and docs follow. */
#include "../vm/node.h"

#include <string.h>

/* clang-format off */
#define NODES(X) \
    X(load) \
    X(save) \
    X(signal) \
    X(info) \
    X(stft) \
    X(istft) \
    X(magnitude) \
    X(power) \
    X(phase) \
    X(mix) \
    X(gain) \
    X(mono) \
    X(slice) \
    X(midside) \
    X(merge) \
    X(play) \
    X(jack_in) \
    X(jack_out) \
    X(list) \
    X(item) \
    X(bsseval) \
    X(testsong) \
    X(load_beats) \
    X(beat_metrics) \
    X(beats) \
    X(load_activations) \
    X(activations) \
    X(hpss) \
    X(softmask) \
    X(wiener) \
    X(threshold_mask) \
    X(apply_mask) \
    X(resynth) \
    X(cube) \
    X(bar_grid) \
    X(uncube) \
    X(beat_spectrum) \
    X(repet) \
    X(repet_mask) \
    X(repet_audio) \
    X(repet_pitch) \
    X(nmf) \
    X(picture) \
    X(loops) \
    X(nmf_group) \
    X(rpca) \
    X(nmf_filter) \
    X(loop_stems) \
    X(ntd) \
    X(repet_sim) \
    X(repet_online) \
    X(ft2d) \
    X(unet) \
    X(loop) \
    X(sequence)
/* clang-format on */

#define DECLARE(name) extern const st_node_type st_node_##name;
#define LIST(name)    &st_node_##name,
NODES(DECLARE)
static const st_node_type *const registry[] = {NODES(LIST) NULL};

const st_node_type *const *st_registry(void) { return registry; }

const st_node_type *st_registry_find(const char *name)
{
    for (int i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}
