/* STFT then ISTFT gives the input back, for every size, hop, length and
 * channel count a patch may use. */
#include "../../nodes/dsp/stft.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static st_value *noise(int n_channels, int64_t n_frames)
{
    st_value *v = st_audio_new(n_channels, n_frames, 44100);
    uint32_t state = 12345;
    for (int c = 0; c < n_channels; c++)
        for (int64_t t = 0; t < n_frames; t++) {
            state = state * 1664525u + 1013904223u;
            v->u.audio.channel[c][t] = (float)((double)state / 4294967296.0 - 0.5);
        }
    return v;
}

static double roundtrip_error(int n_fft, int hop, int n_channels, int64_t n_frames, st_window w,
                              int n_threads)
{
    st_value *x = noise(n_channels, n_frames);
    int64_t n_stft = st_stft_n_frames(n_frames, n_fft, hop, 1);
    st_value *s = st_spectrum_new(n_fft, hop, n_stft, n_channels, w, 1, 44100, n_frames);
    st_value *y = st_audio_new(n_channels, n_frames, 44100);
    double worst = INFINITY;
    if (st_stft_compute(&x->u.audio, &s->u.spectrum, n_threads) == 0 &&
        st_istft_compute(&s->u.spectrum, &y->u.audio, n_threads) == 0) {
        worst = 0;
        for (int c = 0; c < n_channels; c++)
            for (int64_t t = 0; t < n_frames; t++) {
                double e = fabs((double)x->u.audio.channel[c][t] - y->u.audio.channel[c][t]);
                if (!(e <= worst)) worst = e; /* NaN counts as worst */
            }
    }
    st_value_unref(x);
    st_value_unref(s);
    st_value_unref(y);
    return worst;
}

void test_stft(void)
{
    static const int sizes[] = {512, 2048, 4096};
    static const int channels[] = {1, 2, 6};
    static const int64_t lengths[] = {44101, 12345, 1, 777};
    char name[160];
    for (int s = 0; s < 3; s++)
        for (int h = 2; h <= 4; h += 2)
            for (int c = 0; c < 3; c++)
                for (int l = 0; l < 4; l++) {
                    int n_fft = sizes[s], hop = n_fft / h;
                    double e =
                        roundtrip_error(n_fft, hop, channels[c], lengths[l], ST_WINDOW_HANN, 2);
                    snprintf(name, sizeof name, "stft roundtrip n_fft=%d hop=%d ch=%d len=%lld",
                             n_fft, hop, channels[c], (long long)lengths[l]);
                    CHECK(name, e < 1e-5, "max abs error %g", e);
                }
    static const char *const windows[] = {"hann", "sqrt_hann", "hamming"};
    for (int w = 0; w < 3; w++)
        for (int threads = 1; threads <= 3; threads += 2) {
            double e = roundtrip_error(1024, 256, 2, 30001, (st_window)w, threads);
            snprintf(name, sizeof name, "stft roundtrip window=%s threads=%d", windows[w], threads);
            CHECK(name, e < 1e-5, "max abs error %g", e);
        }
    /* frame count as librosa: 1 + len // hop when centred */
    CHECK("stft frame count centred", st_stft_n_frames(44100, 2048, 512, 1) == 87, "got %lld",
          (long long)st_stft_n_frames(44100, 2048, 512, 1));
    CHECK("stft frame count not centred", st_stft_n_frames(44100, 2048, 512, 0) == 83, "got %lld",
          (long long)st_stft_n_frames(44100, 2048, 512, 0));
}
