/* signal: test signals made from parameters alone. */
#include "../vm/node.h"
#include "dsp/rng.h"

#include <math.h>
#include <stdint.h>

static const st_param params[] = {
    {"kind", ST_P_STRING, .def_str = "sine", .choices = "sine|chirp|noise|impulse|silence",
     .doc = "what to make; chirp sweeps exponentially from freq to freq_end"},
    {"seconds", ST_P_NUMBER, .def = 1, .min = 1e-4, .max = 36000, .doc = "duration"},
    {"rate", ST_P_NUMBER, .def = 44100, .min = ST_MIN_RATE_HZ, .max = ST_MAX_RATE_HZ,
     .doc = "sample rate in Hz"},
    {"channels", ST_P_INT, .def = 1, .min = 1, .max = 64,
     .doc = "channel count; each channel differs a little (phase, noise stream)"},
    {"freq", ST_P_NUMBER, .def = 440, .min = 0, .max = 384000,
     .doc = "frequency in Hz (sine, chirp start)"},
    {"freq_end", ST_P_NUMBER, .def = 8000, .min = 1, .max = 384000,
     .doc = "chirp end frequency in Hz"},
    {"amplitude", ST_P_NUMBER, .def = 0.5, .min = 0, .max = 1, .doc = "peak amplitude"},
    {"seed", ST_P_INT, .def = 1, .min = 0, .max = 2147483647, .doc = "noise seed"},
    {NULL}};

static int signal_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                      st_value **out)
{
    (void)in, (void)n_in;
    double rate = st_num(p, "rate"), seconds = st_num(p, "seconds"), amp = st_num(p, "amplitude");
    double f0 = st_num(p, "freq"), f1 = st_num(p, "freq_end");
    int64_t n = (int64_t)llround(seconds * rate);
    if (n < 1) n = 1;
    st_value *v = st_audio_new(st_int(p, "channels"), n, rate);
    if (!v) return st_fail(ctx, "out of memory");
    int kind = st_choice(p, "kind");
    for (int c = 0; c < v->u.audio.n_channels; c++) {
        float *y = v->u.audio.channel[c];
        uint64_t state = st_rng_seed((uint64_t)st_int(p, "seed"), (uint64_t)c);
        double offset = 0.5 * c, k = log(f1 / (f0 > 0 ? f0 : 1)) / seconds;
        for (int64_t t = 0; t < n; t++) {
            double time = (double)t / rate;
            switch (kind) {
            case 0:
                y[t] = (float)(amp * sin(2 * M_PI * f0 * time + offset));
                break;
            case 1: /* phase of an exponential sweep: 2 pi f0 (e^{kt} - 1) / k */
                y[t] = (float)(amp * sin(2 * M_PI * (f0 > 0 ? f0 : 1) *
                                             (k != 0 ? expm1(k * time) / k : time) +
                                         offset));
                break;
            case 2:
                y[t] = (float)(amp * (2 * st_rng_uniform(&state) - 1));
                break;
            case 3:
                y[t] = t == 0 ? (float)amp : 0.0f;
                break;
            default:
                break;
            }
        }
    }
    *out = v;
    return ST_OK;
}

const st_node_type st_node_signal = {
    .name = "signal",
    .doc = "Make a test signal: a sine, an exponential chirp, white noise, an impulse or silence.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .run = signal_run,
};
