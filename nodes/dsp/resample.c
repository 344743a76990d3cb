#include "resample.h"

#include "../../vm/parallel.h"

#include <math.h>
#include <samplerate.h>
#include <stdio.h>

typedef struct {
    const st_audio *in;
    st_audio *out;
    int converter;
    int status;
} resample_job;

/* Channels are independent, so each thread converts whole channels. */
static void resample_channels(void *ctx, int64_t begin, int64_t end)
{
    resample_job *job = ctx;
    for (int64_t c = begin; c < end; c++) {
        SRC_DATA d = {
            .data_in = job->in->channel[c],
            .data_out = job->out->channel[c],
            .input_frames = (long)job->in->n_frames,
            .output_frames = (long)job->out->n_frames,
            .src_ratio = job->out->rate_hz / job->in->rate_hz,
            .end_of_input = 1,
        };
        int status = src_simple(&d, job->converter, 1);
        if (status) job->status = status;
    }
}

st_value *st_resample(const st_audio *a, double rate_hz, int quality, int n_threads, char *error,
                      size_t error_size)
{
    static const int converters[] = {SRC_SINC_BEST_QUALITY, SRC_SINC_MEDIUM_QUALITY,
                                     SRC_SINC_FASTEST};
    int64_t n_frames = (int64_t)ceil((double)a->n_frames * rate_hz / a->rate_hz);
    st_value *v = st_audio_new(a->n_channels, n_frames, rate_hz);
    if (!v) {
        snprintf(error, error_size, "out of memory resampling to %g Hz", rate_hz);
        return NULL;
    }
    resample_job job = {a, &v->u.audio, converters[quality], 0};
    st_parallel_for(n_threads, a->n_channels, resample_channels, &job);
    if (job.status) {
        snprintf(error, error_size, "resampling to %g Hz failed: %s", rate_hz,
                 src_strerror(job.status));
        st_value_unref(v);
        return NULL;
    }
    return v;
}
