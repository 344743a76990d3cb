/* istft: complex frames back to audio, exactly (window-sum normalised). */
#include "../vm/node.h"
#include "dsp/stft.h"

#include <string.h>

static const st_param params[] = {
    {"length", ST_P_INT, .def = 0, .min = 0, .max = 1e12,
     .doc = "output length in samples; 0 gives the length of the signal the frames came from"},
    {NULL}};

static int istft_run(st_run *run, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    int64_t length = (int64_t)st_num(p, "length");
    if (length == 0) length = s->length_samples;
    st_value *v = st_audio_new(s->n_channels, length, s->rate_hz);
    if (!v || st_istft_compute(s, &v->u.audio, run->n_threads)) {
        st_value_unref(v);
        return st_fail(run, "out of memory for %lld samples", (long long)length);
    }
    *out = v;
    return ST_OK;
}

const st_node_type st_node_istft = {
    .name = "istft",
    .doc = "Inverse short-time Fourier transform by overlap-add, divided by the sum of squared "
           "windows: istft(stft(x)) gives x back to float precision.",
    .inputs = (const st_port[]){{"in", ST_SPECTRUM}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = istft_run,
};
