/* uncube: a cube-shaped array back on the song's frames, by cube's map. */
#include "../vm/node.h"

static int uncube_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                      st_value **out)
{
    (void)n_in, (void)p;
    const st_array *a = &in[0]->u.array, *map = &in[1]->u.array;
    if (a->n_axes != 3 && a->n_axes != 4)
        return st_fail(ctx, "in must be a cube (freq, time, bar) or a stack of cubes, not %d axes",
                       a->n_axes);
    if (map->n_axes != 2 || map->shape[1] != 2)
        return st_fail(ctx, "frames must be cube's frames output (frame x {bar, position})");
    const int stacked = a->n_axes == 4;
    const int64_t n_stack = stacked ? a->shape[0] : 1, n_bins = a->shape[stacked],
                  n_time = a->shape[stacked + 1], n_bars = a->shape[stacked + 2],
                  n_frames = map->shape[0];
    for (int64_t t = 0; t < n_frames; t++) {
        float b = map->data[2 * t], pos = map->data[2 * t + 1];
        if (b < 0 || b >= n_bars || pos < 0 || pos >= n_time)
            return st_fail(ctx,
                           "frame %lld sits at bar %g, position %g, outside the %lld x %lld "
                           "cube: is it the same song's cube?",
                           (long long)t, b, pos, (long long)n_time, (long long)n_bars);
    }
    static const char *const axes[] = {"mask", "channel", "time", "freq"};
    int64_t shape[4] = {n_stack, 1, n_frames, n_bins};
    st_value *v = stacked ? st_array_new(4, shape, axes) : st_array_new(3, shape + 1, axes + 1);
    if (!v) return st_fail(ctx, "out of memory");
    const size_t cube_size = (size_t)(n_bins * n_time * n_bars);
    for (int64_t i = 0; i < n_stack; i++) {
        const float *cube = a->data + (size_t)i * cube_size;
        float *y = v->u.array.data + (size_t)i * (size_t)(n_frames * n_bins);
        for (int64_t t = 0; t < n_frames; t++) {
            size_t b = (size_t)map->data[2 * t], pos = (size_t)map->data[2 * t + 1];
            for (int64_t k = 0; k < n_bins; k++)
                y[t * n_bins + k] = cube[((size_t)k * (size_t)n_time + pos) * (size_t)n_bars + b];
        }
    }
    *out = v;
    return ST_OK;
}

const st_node_type st_node_uncube = {
    .name = "uncube",
    .doc = "The inverse of cube: an array shaped like the cube (freq, time, bar), or a stack of "
           "them (loop, freq, time, bar), read back onto the song's frames through cube's frames "
           "map. Gives (channel, time, freq) arrays with one channel, or a (mask, channel, time, "
           "freq) stack: the shapes that masks and resynth take. uncube(cube) is the "
           "spectrogram it came from.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {"frames", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = uncube_run,
};
