/* loop_stems: each loop over the whole song, through its mask, inverted
 * with the mixture's phase. The masks are made frame by frame from the
 * loops' templates and activations (one at a time, never a stack of them),
 * so a long song needs the memory of one mask, not of every loop's. */
#include "../vm/node.h"
#include "../vm/simd.h"
#include "dsp/masks.h"
#include "dsp/stft.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

static const st_param params[] = {
    {"mask", ST_P_STRING, .def_str = "wiener", .choices = "wiener|unmixer",
     .doc = "wiener: Y_k^p / sum_j Y_j^p across the placed loops (sums to one: the stems add up "
            "to the mixture); unmixer: the Unmixer's soft mask Y_k^p / (Y_k^p + X^p) against "
            "the mixture's magnitude X (the mean over channels)"},
    {"power", ST_P_NUMBER, .def = 2, .min = 0.1, .max = 10, .doc = "mask exponent p"},
    {"period", ST_P_INT, .def = 1, .min = 1, .max = 8,
     .doc = "slices in a loop's cycle (loops' period): each tile holds that many phases one "
            "after the other, and slice b uses phase b mod period"},
    {"groups", ST_P_STRING, .def_str = "",
     .doc = "the stem each tile belongs to, comma-separated from 0 (loops' part_loop, e.g. "
            "\"0,0,1,2\": tiles 0 and 1 make stem 0, whose mask is the sum of theirs); empty: "
            "a stem per tile"},
    {NULL}};

static float power_of(float v, float p) { return p == 2.0f ? v * v : powf(v, p); }

/* One loop's masked frames, made as the inverse STFT asks for them (from
 * several threads): nothing of the song's size is held but the stem. The
 * tiles are read transposed (loop x phase x time x freq), so that a frame's
 * cells are contiguous; each cell's sum runs over the loops in order, as the
 * mask's definition reads. */
typedef struct {
    const st_spectrum *s;
    const float *tiles; /* loop x phase x time x freq */
    const float *act;   /* bar x loop */
    const float *map;   /* frame x {bar, position} */
    int n_loops, period, loop, wiener;
    float power;
    int64_t n_time;
    const int *group; /* NULL, or each tile's stem: stem `loop` is its tiles' sum */
} mask_job;

#if defined(__x86_64__)
#include <immintrin.h>
/* bins f..f+7 = x's times their mask values (each value twice: re, im) */
__attribute__((target("avx"))) static inline void store_masked(const float complex *x, __m256 mask,
                                                               float complex *bins)
{
    __m256 lo = _mm256_unpacklo_ps(mask, mask), hi = _mm256_unpackhi_ps(mask, mask);
    const float *in = (const float *)x;
    float *out = (float *)bins;
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_loadu_ps(in), _mm256_permute2f128_ps(lo, hi, 0x20)));
    _mm256_storeu_ps(out + 8,
                     _mm256_mul_ps(_mm256_loadu_ps(in + 8), _mm256_permute2f128_ps(lo, hi, 0x31)));
}

/* masked_frame's Wiener mask of power 2, eight bins at a time (the same
 * operations per bin, so the same numbers); returns the bins done. */
__attribute__((target("avx"))) static int64_t
wiener2_avx(const float *tiles, size_t stride, const float *act, int n_loops, const float *own,
            float own_weight, const float complex *x, int64_t n_bins, float complex *bins)
{
    const __m256 tiny = _mm256_set1_ps(FLT_MIN), even = _mm256_set1_ps(1.0f / n_loops);
    const __m256 w = _mm256_set1_ps(own_weight);
    int64_t f = 0;
    for (; f + 8 <= n_bins; f += 8) {
        __m256 reference = _mm256_setzero_ps();
        for (int l = 0; l < n_loops; l++) {
            __m256 v =
                _mm256_mul_ps(_mm256_loadu_ps(tiles + l * stride + f), _mm256_set1_ps(act[l]));
            reference = _mm256_add_ps(reference, _mm256_mul_ps(v, v));
        }
        __m256 y = _mm256_mul_ps(_mm256_loadu_ps(own + f), w);
        __m256 mask = _mm256_blendv_ps(even, _mm256_div_ps(_mm256_mul_ps(y, y), reference),
                                       _mm256_cmp_ps(reference, tiny, _CMP_GT_OQ));
        store_masked(x + f, mask, bins + f);
    }
    return f;
}

/* grouped_frame's Wiener mask of power 2 (stem `stem`, the sum of its tiles'
 * masks), eight bins at a time, the same operations per bin in the same
 * order; share is the stem's mask where no tile sounds. Returns the bins done. */
__attribute__((target("avx"))) static int64_t
grouped_wiener2_avx(const float *tiles, size_t stride, const float *act, int n_loops,
                    const int *group, int stem, float share, const float complex *x, int64_t n_bins,
                    float complex *bins)
{
    const __m256 tiny = _mm256_set1_ps(FLT_MIN), even = _mm256_set1_ps(share);
    int64_t f = 0;
    for (; f + 8 <= n_bins; f += 8) {
        __m256 reference = _mm256_setzero_ps(), own = _mm256_setzero_ps();
        for (int l = 0; l < n_loops; l++) {
            __m256 y =
                _mm256_mul_ps(_mm256_loadu_ps(tiles + l * stride + f), _mm256_set1_ps(act[l]));
            __m256 v = _mm256_mul_ps(y, y);
            reference = _mm256_add_ps(reference, v);
            if (group[l] == stem) own = _mm256_add_ps(own, v);
        }
        __m256 mask = _mm256_blendv_ps(even, _mm256_div_ps(own, reference),
                                       _mm256_cmp_ps(reference, tiny, _CMP_GT_OQ));
        store_masked(x + f, mask, bins + f);
    }
    return f;
}
#endif

/* X: the mixture's magnitude at bin f, the mean over channels */
static float mean_magnitude(const st_spectrum *s, const float complex *mix, size_t per_channel,
                            int64_t f)
{
    float x = 0;
    for (int d = 0; d < s->n_channels; d++)
        x += cabsf(mix[d * per_channel + f]);
    return x / s->n_channels;
}

/* A stem made of several tiles (groups): its Wiener mask is the sum of its
 * tiles' masks; its soft mask is that of the sum of its tiles' models. */
static void grouped_frame(const mask_job *m, const float complex *mix, const float *act,
                          const float *tiles, size_t stride, int c, size_t per_channel,
                          float complex *bins)
{
    const st_spectrum *s = m->s;
    int members = 0; /* the stem's tiles: its share where no tile sounds */
    for (int l = 0; l < m->n_loops; l++)
        members += m->group[l] == m->loop;
    int64_t f = 0;
#if defined(__x86_64__)
    if (m->wiener && m->power == 2.0f && st_simd_allows(ST_SIMD_AVX))
        f = grouped_wiener2_avx(tiles, stride, act, m->n_loops, m->group, m->loop,
                                (float)members / m->n_loops, mix + (size_t)c * per_channel,
                                s->n_bins, bins);
#endif
    for (; f < s->n_bins; f++) {
        float mask, own = 0, reference = 0;
        for (int l = 0; l < m->n_loops; l++) {
            const float y = tiles[l * stride + f] * act[l];
            if (m->wiener) {
                const float v = power_of(y, m->power);
                reference += v;
                if (m->group[l] == m->loop) own += v;
            } else if (m->group[l] == m->loop)
                own += y;
        }
        if (m->wiener) {
            mask = reference > FLT_MIN ? own / reference : (float)members / m->n_loops;
        } else {
            mask = st_softmask(own, mean_magnitude(s, mix, per_channel, f), m->power, 0);
        }
        bins[f] = mix[(size_t)c * per_channel + f] * mask;
    }
}

static void masked_frame(void *ctx, int c, int64_t t, float complex *bins)
{
    const mask_job *m = ctx;
    const st_spectrum *s = m->s;
    const int64_t n_bins = s->n_bins;
    const int n_loops = m->n_loops;
    const size_t per_channel = (size_t)s->n_frames * (size_t)n_bins;
    const int64_t b = (int64_t)m->map[2 * t], j = (int64_t)m->map[2 * t + 1];
    const int64_t phase = b % m->period;
    const float complex *mix = s->data + (size_t)t * n_bins; /* channel 0, frame t */
    const float *act = m->act + b * n_loops;
    const size_t stride = (size_t)m->period * m->n_time * n_bins; /* one loop's tiles */
    const float *tiles = m->tiles + ((size_t)phase * m->n_time + j) * n_bins;
    const float *own = tiles + (size_t)m->loop * stride;
    const float own_weight = act[m->loop];
    int64_t f = 0;
    if (m->group) { /* a stem of several tiles: the sum of their masks */
        grouped_frame(m, mix, act, tiles, stride, c, per_channel, bins);
        return;
    }
#if defined(__x86_64__)
    if (m->wiener && m->power == 2.0f && st_simd_allows(ST_SIMD_AVX))
        f = wiener2_avx(tiles, stride, act, n_loops, own, own_weight, mix + (size_t)c * per_channel,
                        n_bins, bins);
#endif
    for (; f < n_bins; f++) {
        const float y = own[f] * own_weight;
        float mask;
        if (m->wiener) {
            float reference = 0;
            for (int l = 0; l < n_loops; l++)
                reference += power_of(tiles[l * stride + f] * act[l], m->power);
            mask = reference > FLT_MIN ? power_of(y, m->power) / reference : 1.0f / n_loops;
        } else {
            mask = st_softmask(y, mean_magnitude(s, mix, per_channel, f), m->power, 0);
        }
        bins[f] = mix[(size_t)c * per_channel + f] * mask;
    }
}

static int loop_stems_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    (void)n_in;
    const st_spectrum *s = &in[0]->u.spectrum;
    const st_array *tiles = &in[1]->u.array, *act = &in[2]->u.array, *map = &in[3]->u.array;
    if (tiles->n_axes != 3 || act->n_axes != 2 || act->shape[1] != tiles->shape[0])
        return st_fail(ctx, "tiles (loop x freq x time) and activation (bar x loop) must be loops' "
                            "outputs");
    const int n_loops = (int)tiles->shape[0], period = st_int(p, "period");
    if (tiles->shape[2] % period)
        return st_fail(ctx, "period = %d does not divide the tiles' %lld time cells", period,
                       (long long)tiles->shape[2]);
    const int64_t n_bins = tiles->shape[1], n_time = tiles->shape[2] / period,
                  n_bars = act->shape[0];
    const int64_t n_frames = s->n_frames;
    if (n_bins != s->n_bins)
        return st_fail(ctx, "the tiles have %lld bins, the spectrum %d", (long long)n_bins,
                       s->n_bins);
    if (map->n_axes != 2 || map->shape[0] != n_frames || map->shape[1] != 2)
        return st_fail(ctx, "frames must be cube's frames map of this spectrum (%lld frames)",
                       (long long)n_frames);
    if (n_loops < 1 || n_loops > 256) return st_fail(ctx, "%d loops: 1 to 256", n_loops);
    for (int64_t t = 0; t < n_frames; t++) {
        float b = map->data[2 * t], j = map->data[2 * t + 1];
        if (b < 0 || b >= n_bars || j < 0 || j >= n_time)
            return st_fail(ctx,
                           "frame %lld sits at bar %g, position %g, outside the model (%lld "
                           "bars of %lld frames)",
                           (long long)t, b, j, (long long)n_bars, (long long)n_time);
    }
    /* groups: the stem of each tile */
    int group[256], n_stems = n_loops;
    const char *text = st_str(p, "groups");
    if (text[0]) {
        n_stems = 0;
        int n = 0;
        for (const char *c = text; *c;) {
            char *end;
            long g = strtol(c, &end, 10);
            if (end == c || g < 0 || g >= n_loops || n >= n_loops || (*end && *end != ','))
                return st_fail(ctx,
                               "groups = \"%s\": a stem number from 0 to %d for each of the %d "
                               "tiles, comma-separated",
                               text, n_loops - 1, n_loops);
            group[n++] = (int)g;
            if (g + 1 > n_stems) n_stems = (int)g + 1;
            c = *end ? end + 1 : end;
        }
        int used[256] = {0};
        for (int l = 0; l < n; l++)
            used[group[l]] = 1;
        for (int g = 0; g < n_stems; g++)
            if (n != n_loops || !used[g])
                return st_fail(ctx,
                               "groups = \"%s\": %d numbers for %d tiles, every stem from 0 "
                               "to the largest with a tile",
                               text, n, n_loops);
    }
    /* One loop at a time, its mask made frame by frame as the inverse needs
     * it, the inverse written straight into the stem. */
    float *transposed = malloc((size_t)tiles->n_elems * sizeof *transposed);
    st_value *audio[256] = {0};
    int status = transposed ? ST_OK : st_fail(ctx, "out of memory");
    for (int l = 0; status == ST_OK && l < n_loops; l++)
        for (int64_t f = 0; f < n_bins; f++)
            for (int64_t i = 0; i < period * n_time; i++) /* (phase, time) of loop l */
                transposed[((size_t)l * period * n_time + i) * n_bins + f] =
                    tiles->data[((size_t)l * n_bins + f) * period * n_time + i];
    mask_job job = {s,
                    transposed,
                    act->data,
                    map->data,
                    n_loops,
                    period,
                    0,
                    st_choice(p, "mask") == 0,
                    (float)st_num(p, "power"),
                    n_time,
                    text[0] ? group : NULL};
    for (int k = 0; status == ST_OK && k < n_stems; k++) {
        if (!(audio[k] = st_audio_new(s->n_channels, s->length_samples, s->rate_hz))) {
            status = st_fail(ctx, "out of memory");
            break;
        }
        job.loop = k;
        if (st_istft_compute_frames(s, masked_frame, &job, &audio[k]->u.audio, ctx->n_threads))
            status = st_fail(ctx, "out of memory");
        st_progress(ctx, (double)(k + 1) / n_stems);
    }
    if (status == ST_OK && !(*out = st_record_new(n_stems, NULL, audio)))
        status = st_fail(ctx, "out of memory");
    for (int k = 0; k < n_stems; k++)
        st_value_unref(audio[k]);
    free(transposed);
    return status;
}

const st_node_type st_node_loop_stems = {
    .name = "loop_stems",
    .doc = "Each loop over the whole song (loops' tiles and activation, placed by cube's frames "
           "map): the mixture spectrum through the loop's mask, inverted with the mixture's "
           "phase, every channel through the one mask. A list of audio, one per loop (or per "
           "group of tiles, `groups`). The masks "
           "are made one at a time from the model, so memory holds one mask, not a stack.",
    .inputs = (const st_port[]){{"spectrum", ST_SPECTRUM},
                                {"tiles", ST_ARRAY},
                                {"activation", ST_ARRAY},
                                {"frames", ST_ARRAY},
                                {NULL}},
    .outputs = (const st_port[]){{"out", ST_RECORD}, {NULL}},
    .params = params,
    .run = loop_stems_run,
};
