#include "stft.h"
#include "vec4.h"

#include "../../vm/parallel.h"
#include "fft.h"
#include "magnitude.h"
#include "window.h"

#include <float.h>
#include <stdlib.h>
#include <string.h>

int64_t st_stft_n_frames(int64_t length, int n_fft, int hop_samples, int center)
{
    int64_t padded = center ? length + 2 * (n_fft / 2) : length;
    if (padded < n_fft) return 0;
    return 1 + (padded - n_fft) / hop_samples;
}

/* Four floats at a time (vec4.h) where the loops below are plain
 * element-wise arithmetic: the same bits as scalar loops. */
#define V 4

/* Work is split into (channel, span of frames) items so that mono audio
 * uses every thread too. */
#define SPANS_PER_CHANNEL 8

typedef struct {
    const st_audio *a;
    st_spectrum *s;
    float *const *blocks; /* or NULL: |X| of each frame instead of X (st_stft_magnitudes) */
    int block;
    const float *window;
    const st_fft *fft;
    int failed;
} stft_job;

/* Frame t of x (length samples) windowed into frame: the one framing of the
 * forward transform, so that a frame made again later (st_istft_filtered) is
 * the same bits. */
static void window_frame(const float *x, int64_t length, int64_t start, const float *window,
                         int n_fft, float *frame)
{
    if (start >= 0 && start + n_fft <= length) {
        int i = 0;
        for (; i + V <= n_fft; i += V)
            v4_store(frame + i, v4_load(x + start + i) * v4_load(window + i));
        for (; i < n_fft; i++)
            frame[i] = x[start + i] * window[i];
    } else {
        for (int i = 0; i < n_fft; i++) {
            int64_t j = start + i;
            frame[i] = j >= 0 && j < length ? x[j] * window[i] : 0.0f;
        }
    }
}

static void stft_range(void *ctx, int64_t begin, int64_t end)
{
    stft_job *job = ctx;
    const st_spectrum *s = job->s;
    const int n_fft = s->n_fft, pad = s->center ? n_fft / 2 : 0;
    float *frame = st_fft_alloc((size_t)n_fft * sizeof *frame);
    float complex *bins = st_fft_alloc((size_t)s->n_bins * sizeof *bins);
    if (!frame || !bins) {
        job->failed = 1;
        goto done;
    }
    for (int64_t item = begin; item < end; item++) {
        int c = (int)(item / SPANS_PER_CHANNEL), span = (int)(item % SPANS_PER_CHANNEL);
        int64_t t0 = s->n_frames * span / SPANS_PER_CHANNEL;
        int64_t t1 = s->n_frames * (span + 1) / SPANS_PER_CHANNEL;
        const float *x = job->a->channel[c];
        const int64_t length = job->a->n_frames;
        for (int64_t t = t0; t < t1; t++) {
            window_frame(x, length, t * s->hop_samples - pad, job->window, n_fft, frame);
            st_fft_forward(job->fft, frame, bins);
            if (job->blocks) { /* frame is free again: the magnitudes go through it */
                const int b = job->block, n_blocks = (s->n_bins + b - 1) / b;
                st_magnitudes(bins, s->n_bins, frame);
                for (int k = 0; k < s->n_bins; k += b)
                    memcpy(job->blocks[c * n_blocks + k / b] + (size_t)t * (size_t)b, frame + k,
                           (size_t)(s->n_bins - k < b ? s->n_bins - k : b) * sizeof *frame);
            } else {
                memcpy(s->data + ((size_t)c * (size_t)s->n_frames + (size_t)t) * (size_t)s->n_bins,
                       bins, (size_t)s->n_bins * sizeof *bins);
            }
        }
    }
done:
    st_fft_free(frame);
    st_fft_free(bins);
}

static int stft_run(const st_audio *a, st_spectrum *s, float *const *blocks, int block,
                    int n_threads)
{
    float *window = malloc((size_t)s->n_fft * sizeof *window);
    stft_job job = {a, s, blocks, block, window, st_fft_get(s->n_fft), 0};
    if (!window || !job.fft) {
        free(window);
        return -1;
    }
    st_window_fill(s->window, s->n_fft, window);
    st_parallel_for(n_threads, (int64_t)s->n_channels * SPANS_PER_CHANNEL, stft_range, &job);
    free(window);
    return job.failed ? -1 : 0;
}

int st_stft_compute(const st_audio *a, st_spectrum *s, int n_threads)
{
    return stft_run(a, s, NULL, 0, n_threads);
}

int st_stft_magnitudes(const st_audio *a, const st_spectrum *shape, int block, float *const *blocks,
                       int n_threads)
{
    st_spectrum s = *shape;
    return stft_run(a, &s, blocks, block, n_threads);
}

/* The inverse splits the output, not the frames: each item owns a span of
 * output samples and adds in every frame that reaches into it, so threads
 * never write to the same sample. Frames straddling two spans are
 * transformed twice, a small price for no locks. */
typedef struct {
    const st_spectrum *s;
    const float *mask; /* or NULL: bins are multiplied by it on the way (see st_istft_masked) */
    int mask_shared;
    st_istft_frame_fn frame; /* or NULL: frames made by it (see st_istft_compute_frames) */
    void *frame_ctx;
    const st_audio *in;       /* or NULL: frames are its forward STFT's, then filtered */
    st_stft_filter_fn filter; /* (see st_istft_filtered) */
    st_audio *rest;           /* or NULL: in minus the output, sample by sample */
    st_audio *a;
    const float *window;
    const float *synthesis; /* window / n_fft: FFTW's inverse is unnormalised */
    /* hop values (and V more, repeating): the window-square sum where all frames cover */
    const float *periodic_sum;
    const st_fft *fft;
    int64_t padded_length;
    int failed;
} istft_job;

static void istft_range(void *ctx, int64_t begin, int64_t end)
{
    istft_job *job = ctx;
    const st_spectrum *s = job->s;
    const int n_fft = s->n_fft, hop = s->hop_samples, pad = s->center ? n_fft / 2 : 0;
    float complex *bins = st_fft_alloc((size_t)s->n_bins * sizeof *bins);
    float *frame = st_fft_alloc((size_t)n_fft * sizeof *frame);
    if (!frame || !bins) {
        job->failed = 1;
        goto done;
    }
    for (int64_t item = begin; item < end; item++) {
        int c = (int)(item / SPANS_PER_CHANNEL), span = (int)(item % SPANS_PER_CHANNEL);
        /* output samples [o0, o1) of the unpadded signal */
        int64_t o0 = job->a->n_frames * span / SPANS_PER_CHANNEL;
        int64_t o1 = job->a->n_frames * (span + 1) / SPANS_PER_CHANNEL;
        if (o0 >= o1) continue;
        float *y = job->a->channel[c];
        /* written before it is added to: a fresh page first read is mapped
         * to the zero page and copied again at the first write */
        memset(y + o0, 0, (size_t)(o1 - o0) * sizeof *y);
        const float *mask =
            job->mask
                ? job->mask +
                      (job->mask_shared ? 0 : (size_t)c * (size_t)s->n_frames * (size_t)s->n_bins)
                : NULL;
        /* frames t with t*hop - pad < o1 and t*hop - pad + n_fft > o0 */
        int64_t t_first = (o0 + pad - n_fft) < 0 ? 0 : (o0 + pad - n_fft) / hop + 1;
        int64_t t_last = (o1 - 1 + pad) / hop;
        if (t_last > s->n_frames - 1) t_last = s->n_frames - 1;
        for (int64_t t = t_first; t <= t_last; t++) {
            /* (s->data is not read when the frames are made: it may be NULL) */
            const size_t at = ((size_t)c * (size_t)s->n_frames + (size_t)t) * (size_t)s->n_bins;
            if (job->in) { /* the frame made again from the audio */
                window_frame(job->in->channel[c], job->in->n_frames, t * hop - pad, job->window,
                             n_fft, frame);
                st_fft_forward(job->fft, frame, bins);
                job->filter(job->frame_ctx, c, t, bins, frame);
            } else if (job->frame) { /* the frame comes from job->frame */
                job->frame(job->frame_ctx, c, t, bins);
            } else if (mask) {
                const float complex *x = s->data + at;
                const float *m = mask + (size_t)t * (size_t)s->n_bins;
                for (int k = 0; k < s->n_bins; k++)
                    bins[k] = x[k] * m[k];
            } else {
                memcpy(bins, s->data + at, (size_t)s->n_bins * sizeof *bins);
            }
            st_fft_inverse(job->fft, bins, frame);
            int64_t start = t * hop - pad;
            int i0 = start < o0 ? (int)(o0 - start) : 0;
            int i1 = start + n_fft > o1 ? (int)(o1 - start) : n_fft;
            float *out = y + start;
            int i = i0;
            for (; i + V <= i1; i += V)
                v4_store(out + i,
                         v4_load(out + i) + v4_load(frame + i) * v4_load(job->synthesis + i));
            for (; i < i1; i++)
                out[i] += frame[i] * job->synthesis[i];
        }
        /* divide by the sum of squared windows where it is not tiny; where
         * every covering frame exists the sum depends on p mod hop only and
         * comes from the table (the same sums, in the same order) */
        int64_t interior_lo = n_fft - 1, interior_hi = (s->n_frames - 1) * hop; /* padded p */
        int residue = (int)((o0 + pad) % hop); /* p mod hop, kept without dividing */
        for (int64_t j = o0; j < o1; j++, residue = residue + 1 == hop ? 0 : residue + 1) {
            int64_t p = j + pad; /* index in the padded signal */
            /* V interior samples at once (the table runs V past hop) */
            while (p >= interior_lo && p + V - 1 <= interior_hi && j + V <= o1) {
                v4f sum = v4_load(job->periodic_sum + residue), v = v4_load(y + j);
                v4_store(y + j, V4_SELECT(sum > FLT_MIN, v / sum, v));
                j += V, p += V, residue = (residue + V) % hop;
            }
            if (j >= o1) break;
            float sum;
            if (p >= interior_lo && p <= interior_hi) {
                sum = job->periodic_sum[residue];
            } else {
                int64_t lo = p - n_fft + 1 < 0 ? 0 : (p - n_fft + 1 + hop - 1) / hop;
                int64_t hi = p / hop < s->n_frames - 1 ? p / hop : s->n_frames - 1;
                sum = 0;
                for (int64_t t = lo; t <= hi; t++) {
                    float w = job->window[p - t * hop];
                    sum += w * w;
                }
            }
            if (sum > FLT_MIN) y[j] /= sum;
        }
        if (job->rest) { /* as mix's subtract: the same bits as in - out there */
            const float *x = job->in->channel[c];
            float *r = job->rest->channel[c];
            int64_t j = o0;
            for (; j + V <= o1; j += V)
                v4_store(r + j, v4_load(x + j) - v4_load(y + j));
            for (; j < o1; j++)
                r[j] = x[j] - y[j];
        }
    }
done:
    st_fft_free(frame);
    st_fft_free(bins);
}

int st_istft_compute(const st_spectrum *s, st_audio *a, int n_threads)
{
    return st_istft_masked(s, NULL, 0, a, n_threads);
}

static int istft_run(istft_job *job, int n_threads);

int st_istft_masked(const st_spectrum *s, const float *mask, int shared, st_audio *a, int n_threads)
{
    istft_job job = {.s = s, .mask = mask, .mask_shared = shared, .a = a};
    return istft_run(&job, n_threads);
}

int st_istft_compute_frames(const st_spectrum *shape, st_istft_frame_fn frame, void *ctx,
                            st_audio *a, int n_threads)
{
    istft_job job = {.s = shape, .frame = frame, .frame_ctx = ctx, .a = a};
    return istft_run(&job, n_threads);
}

int st_istft_filtered(const st_spectrum *shape, const st_audio *in, st_stft_filter_fn filter,
                      void *ctx, st_audio *out, st_audio *rest, int n_threads)
{
    istft_job job = {
        .s = shape, .in = in, .filter = filter, .frame_ctx = ctx, .rest = rest, .a = out};
    return istft_run(&job, n_threads);
}

/* job holds the spectrum, its mask or frame maker and the output */
static int istft_run(istft_job *job, int n_threads)
{
    const st_spectrum *s = job->s;
    float *window = malloc((2 * (size_t)s->n_fft + (size_t)s->hop_samples + V) * sizeof *window);
    job->window = window, job->synthesis = window + s->n_fft;
    job->periodic_sum = window + 2 * s->n_fft, job->fft = st_fft_get(s->n_fft);
    if (!window || !job->fft) {
        free(window);
        return -1;
    }
    st_window_fill(s->window, s->n_fft, window);
    for (int i = 0; i < s->n_fft; i++)
        window[s->n_fft + i] = window[i] / (float)s->n_fft;
    for (int r = 0; r < s->hop_samples; r++) { /* at a p = r (mod hop) with every frame present */
        int64_t p = (int64_t)(s->n_fft / s->hop_samples + 1) * s->hop_samples + r;
        int64_t lo = (p - s->n_fft + 1 + s->hop_samples - 1) / s->hop_samples;
        float sum = 0;
        for (int64_t t = lo; t <= p / s->hop_samples; t++) {
            float w = window[p - t * s->hop_samples];
            sum += w * w;
        }
        window[2 * s->n_fft + r] = sum;
    }
    for (int r = s->hop_samples; r < s->hop_samples + V; r++) /* read V at a time */
        window[2 * s->n_fft + r] = window[2 * s->n_fft + r % s->hop_samples];
    st_parallel_for(n_threads, (int64_t)s->n_channels * SPANS_PER_CHANNEL, istft_range, job);
    free(window);
    return job->failed ? -1 : 0;
}
