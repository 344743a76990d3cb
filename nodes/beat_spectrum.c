/* beat_spectrum: how much a power spectrogram resembles itself at each lag
 * (Foote & Uchihashi 2001), as nussl's Repet computes it. */
#include "../vm/node.h"
#include "dsp/repet.h"

#include <stdlib.h>
#include <string.h>

static int beat_spectrum_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                             st_value **out)
{
    (void)n_in, (void)p;
    const st_array *a = &in[0]->u.array;
    if (a->n_axes != 2 && a->n_axes != 3)
        return st_fail(ctx,
                       "wants a power spectrogram with axes (channel, time, freq) or "
                       "(time, freq); this array has %d axes",
                       a->n_axes);
    int n_channels = a->n_axes == 3 ? (int)a->shape[0] : 1;
    int64_t n_frames = a->shape[a->n_axes - 2];
    int64_t n_bins = a->shape[a->n_axes - 1];
    if (n_frames < 1 || n_bins < 1 || n_bins > 1 << 24)
        return st_fail(ctx, "the spectrogram is %lld frames x %lld bins", (long long)n_frames,
                       (long long)n_bins);
    static const char *const axes[] = {"lag"};
    st_value *v = st_array_new(1, &n_frames, axes);
    double *beat = malloc((size_t)n_frames * sizeof *beat);
    if (!v || !beat ||
        st_beat_spectrum(a->data, n_channels, n_frames, (int)n_bins, ctx->n_threads, beat)) {
        st_value_unref(v);
        free(beat);
        return st_fail(ctx, "out of memory for %lld frames", (long long)n_frames);
    }
    for (int64_t l = 0; l < n_frames; l++)
        v->u.array.data[l] = (float)beat[l];
    free(beat);
    *out = v;
    return ST_OK;
}

const st_node_type st_node_beat_spectrum = {
    .name = "beat_spectrum",
    .doc = "The beat spectrum of a power spectrogram (the power node's array): for each lag in "
           "frames, the mean over bins of each bin's autocorrelation along time, each lag "
           "divided by the number of frame pairs it covers (nussl's Repet.beat_spectrum; "
           "computed through FFTs, in double). Channels are averaged first. Its peaks are the "
           "periods at which the music repeats.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = (const st_param[]){{NULL}},
    .run = beat_spectrum_run,
};
