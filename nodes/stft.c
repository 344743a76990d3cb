/* stft: audio to complex frames (librosa's framing, FFTW plans). */
#include "../vm/node.h"
#include "dsp/stft.h"

#include <stdio.h>

static const st_param params[] = {
    {"n_fft", ST_P_INT, .def = 2048, .min = 16, .max = 65536,
     .doc = "frame length in samples (the window is as long)"},
    {"hop", ST_P_INT, .def = 0, .min = 0, .max = 65536,
     .doc = "samples between frames; 0 means n_fft / 4"},
    {"window", ST_P_STRING, .def_str = "hann", .choices = "hann|sqrt_hann|hamming",
     .doc = "analysis window (periodic)"},
    {"center", ST_P_BOOL, .def = 1,
     .doc = "pad n_fft / 2 zeros at both ends so that frame t is centred on sample t * hop"},
    {NULL}};

static int stft_check(const st_params *p, char *error, size_t size)
{
    if (st_int(p, "hop") > st_int(p, "n_fft")) {
        snprintf(error, size, "stft: parameter hop = %d is larger than n_fft = %d",
                 st_int(p, "hop"), st_int(p, "n_fft"));
        return ST_ERR;
    }
    return ST_OK;
}

static int stft_run(st_run *run, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    const st_audio *a = &in[0]->u.audio;
    int n_fft = st_int(p, "n_fft"), hop = st_int(p, "hop"), center = st_int(p, "center");
    if (hop == 0) hop = n_fft / 4;
    int64_t n_frames = st_stft_n_frames(a->n_frames, n_fft, hop, center);
    if (n_frames < 1)
        return st_fail(run,
                       "the audio (%lld samples) is shorter than n_fft = %d with center = false",
                       (long long)a->n_frames, n_fft);
    st_value *v =
        st_spectrum_new(n_fft, hop, n_frames, a->n_channels, (st_window)st_choice(p, "window"),
                        center, a->rate_hz, a->n_frames);
    if (!v || st_stft_compute(a, &v->u.spectrum, run->n_threads)) {
        st_value_unref(v);
        return st_fail(run, "out of memory for %lld frames", (long long)n_frames);
    }
    *out = v;
    return ST_OK;
}

const st_node_type st_node_stft = {
    .name = "stft",
    .doc = "Short-time Fourier transform: complex frames (bins x frames x channels) that remember "
           "everything istft needs to give the signal back exactly. Framing as librosa's stft "
           "with pad_mode constant.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_SPECTRUM}, {NULL}},
    .params = params,
    .check = stft_check,
    .run = stft_run,
};
