/* The beat TCN: weights from safetensors, batch norms folded, im2col
 * convolutions through nn.c. */
#include "beat_tcn.h"

#include "../../vm/alloc.h"
#include "../../vm/parallel.h"
#include "lapack.h"
#include "model_path.h"
#include "nn.h"
#include "nn_weights.h"
#include "safetensors.h"

#include <math.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BLOCKS 32

/* Owns the weight copies and the buffers (the large ones from st_zalloc:
 * huge pages fault in at a fraction of the cost of small ones). */
struct st_beat_tcn {
    int n_bands, channels, n_blocks, n_params;
    float elu_alpha;
    st_conv1d inp, block[MAX_BLOCKS], out;
    float *weights; /* every conv's weight and bias, one block */
    int64_t max_frames;
    int n_threads;
    float *x, *h, *h2; /* the input, bands x frames; the hidden layers, channels x frames */
    float *scratch;    /* per thread: im2col columns, then one block of a layer's output */
    size_t n_columns, per_thread;
};

/* Copies conv prefix's weight and bias into *at, folds the batch norm bn (if
 * given) and fills c. */
static int load_conv(const st_safetensors *s, const char *prefix, const char *bn, st_conv1d *c,
                     float eps, float **at, char *error, size_t size)
{
    float *weight, *bias;
    const float *stats[4];
    if (st_nn_take_layer(s, prefix, 3, (int64_t[]){c->c_out, c->c_in, c->kernel}, c->c_out, at,
                         &weight, &bias, error, size))
        return -1;
    if (bn) {
        if (st_nn_take_batch_norm(s, bn, c->c_out, stats, error, size)) return -1;
        st_fold_batch_norm(weight, bias, c->c_out, (size_t)c->c_in * c->kernel, stats[0], stats[1],
                           stats[2], stats[3], eps);
    }
    c->weight = weight;
    c->bias = bias;
    return 0;
}

st_beat_tcn *st_beat_tcn_load(const char *path, char *error, size_t size)
{
    st_safetensors *s;
    char why[256];
    if (st_safetensors_read(path, &s, error, size)) return NULL;
    st_beat_tcn *m = calloc(1, sizeof *m);
    const char *format = st_safetensors_meta(s, "format");
    const char *dilations = st_safetensors_meta(s, "dilations");
    const char *kernel = st_safetensors_meta(s, "kernel");
    const char *eps_text = st_safetensors_meta(s, "batch_norm_eps");
    const st_tensor *inp = st_safetensors_find(s, "inp.weight");
    const st_tensor *out = st_safetensors_find(s, "out.weight");
    if (!m) {
        snprintf(error, size, "out of memory");
        goto fail;
    }
    if (!format || strcmp(format, "strata beats tcn 1") != 0 || !dilations || !kernel ||
        !eps_text || !inp || inp->n_dims != 3 || !out || out->n_dims != 3) {
        snprintf(error, size, "%s: not a strata beat TCN model (format 'strata beats tcn 1')",
                 path);
        goto fail;
    }
    m->channels = (int)inp->shape[0];
    m->n_bands = (int)inp->shape[1];
    m->elu_alpha = 1.0f;
    float eps = strtof(eps_text, NULL);
    int k = atoi(kernel);
    if (m->channels < 1 || m->channels > 4096 || m->n_bands < 1 || m->n_bands > 4096 || k < 1 ||
        k > 64 || k % 2 == 0 || !(eps > 0)) {
        snprintf(error, size, "%s: model sizes out of range", path);
        goto fail;
    }
    int d[MAX_BLOCKS];
    for (const char *c = dilations; *c && m->n_blocks < MAX_BLOCKS;) {
        char *end;
        long v = strtol(c, &end, 10);
        if (end == c || v < 1 || v > 4096) break;
        d[m->n_blocks++] = (int)v;
        c = *end == ',' ? end + 1 : end;
    }
    size_t n_weights = (size_t)inp->n_elems + m->channels +
                       (size_t)m->n_blocks * ((size_t)m->channels * m->channels * k + m->channels) +
                       (size_t)out->n_elems + 3;
    if (!(m->weights = malloc(n_weights * sizeof *m->weights))) {
        snprintf(error, size, "out of memory");
        goto fail;
    }
    float *at = m->weights;
    m->inp = (st_conv1d){.c_in = m->n_bands,
                         .c_out = m->channels,
                         .kernel = 3,
                         .stride = 1,
                         .dilation = 1,
                         .padding = 1};
    if (load_conv(s, "inp", "inp_bn", &m->inp, eps, &at, why, sizeof why)) goto fail_why;
    for (int b = 0; b < m->n_blocks; b++) {
        char conv[32], bn[32];
        snprintf(conv, sizeof conv, "convs.%d", b);
        snprintf(bn, sizeof bn, "bns.%d", b);
        m->block[b] = (st_conv1d){.c_in = m->channels,
                                  .c_out = m->channels,
                                  .kernel = k,
                                  .stride = 1,
                                  .dilation = d[b],
                                  .padding = d[b] * (k - 1) / 2};
        if (load_conv(s, conv, bn, &m->block[b], eps, &at, why, sizeof why)) goto fail_why;
    }
    m->out = (st_conv1d){.c_in = m->channels, .c_out = 3, .kernel = 1, .stride = 1, .dilation = 1};
    if (load_conv(s, "out", NULL, &m->out, eps, &at, why, sizeof why)) goto fail_why;
    m->n_params = (int)(at - m->weights);
    st_safetensors_free(s);
    return m;
fail_why:
    snprintf(error, size, "%s: %s", path, why);
fail:
    st_safetensors_free(s);
    st_beat_tcn_destroy(m);
    return NULL;
}

void st_beat_tcn_destroy(st_beat_tcn *m)
{
    if (!m) return;
    free(m->weights);
    st_zfree(m->x);
    st_zfree(m->h);
    st_zfree(m->h2);
    st_zfree(m->scratch);
    free(m);
}

int st_beat_tcn_n_bands(const st_beat_tcn *m) { return m->n_bands; }
int st_beat_tcn_n_params(const st_beat_tcn *m) { return m->n_params; }

int st_beat_tcn_plan(st_beat_tcn *m, int64_t max_frames, int n_threads)
{
    if (n_threads < 1) n_threads = 1;
    if (max_frames <= m->max_frames && n_threads <= m->n_threads) return 0;
    size_t n = (size_t)max_frames, columns = st_conv1d_scratch(&m->inp, max_frames);
    for (int b = 0; b < m->n_blocks; b++)
        if (st_conv1d_scratch(&m->block[b], max_frames) > columns)
            columns = st_conv1d_scratch(&m->block[b], max_frames);
    int widest = m->channels > 3 ? m->channels : 3;
    st_zfree(m->x), st_zfree(m->h), st_zfree(m->h2), st_zfree(m->scratch);
    m->n_columns = columns;
    m->per_thread = columns + (size_t)widest * ST_CONV1D_BLOCK;
    m->x = st_zalloc(n * m->n_bands * sizeof *m->x);
    m->h = st_zalloc(n * m->channels * sizeof *m->h);
    m->h2 = st_zalloc(n * m->channels * sizeof *m->h2);
    m->scratch = st_zalloc((size_t)n_threads * m->per_thread * sizeof *m->scratch);
    int ok = m->x && m->h && m->h2 && m->scratch;
    m->max_frames = ok ? max_frames : 0;
    m->n_threads = ok ? n_threads : 0;
    return ok ? 0 : -1;
}

/* One layer over the frames, shared out by blocks among the threads: the
 * input conv (h = ELU(conv x)), a residual block (h' = h + ELU(conv h)) or
 * the output (softmax of conv h into the activations). */
typedef struct {
    const st_beat_tcn *m;
    int layer; /* 0: input, 1 .. n_blocks: residual blocks, n_blocks + 1: output */
    const float *in;
    float *out, *act;
    int64_t n_frames, n_chunks;
    int n_threads;
} layer_job;

static float elu(float v, float alpha) { return v > 0.0f ? v : alpha * expm1f(v); }

static void layer_range(void *ctx, int64_t begin, int64_t end)
{
    const layer_job *j = ctx;
    const st_beat_tcn *m = j->m;
    const st_conv1d *c = j->layer == 0             ? &m->inp
                         : j->layer <= m->n_blocks ? &m->block[j->layer - 1]
                                                   : &m->out;
    size_t t = (size_t)j->n_frames;
    for (int64_t k = begin; k < end; k++) { /* thread k: its share of the chunks */
        float *columns = m->scratch + (size_t)k * m->per_thread, *y = columns + m->n_columns;
        for (int64_t q = j->n_chunks * k / j->n_threads; q < j->n_chunks * (k + 1) / j->n_threads;
             q++) {
            int64_t first = q * ST_CONV1D_BLOCK;
            int64_t n =
                j->n_frames - first < ST_CONV1D_BLOCK ? j->n_frames - first : ST_CONV1D_BLOCK;
            st_conv1d_forward_frames(c, j->in, j->n_frames, first, n, y, n, columns);
            if (j->layer == 0) {
                for (int o = 0; o < c->c_out; o++)
                    for (int64_t i = 0; i < n; i++)
                        j->out[o * t + first + i] = elu(y[o * n + i], m->elu_alpha);
            } else if (j->layer <= m->n_blocks) {
                for (int o = 0; o < c->c_out; o++)
                    for (int64_t i = 0; i < n; i++)
                        j->out[o * t + first + i] =
                            j->in[o * t + first + i] + elu(y[o * n + i], m->elu_alpha);
            } else {
                st_softmax_channels(y, 3, n);
                for (int64_t i = 0; i < n; i++) {
                    j->act[2 * (first + i)] = y[n + i];
                    j->act[2 * (first + i) + 1] = y[2 * n + i];
                }
            }
        }
    }
}

void st_beat_tcn_run(st_beat_tcn *m, const float *features, int64_t n_frames, float *act)
{
    size_t t = (size_t)n_frames;
    for (size_t f = 0; f < t; f++) /* frames x bands -> bands x frames */
        for (int b = 0; b < m->n_bands; b++)
            m->x[(size_t)b * t + f] = features[f * m->n_bands + b];
    int64_t n_chunks = (n_frames + ST_CONV1D_BLOCK - 1) / ST_CONV1D_BLOCK;
    int n_threads = m->n_threads < n_chunks ? m->n_threads : (int)n_chunks;
    openblas_set_num_threads(1); /* the threads are ours: each takes a share of the frames */
    layer_job j = {m, 0, m->x, m->h, act, n_frames, n_chunks, n_threads};
    for (j.layer = 0; j.layer <= m->n_blocks + 1; j.layer++) {
        st_parallel_for(n_threads, n_threads, layer_range, &j);
        j.in = j.out; /* the next layer reads this one's output and writes the other buffer */
        j.out = j.out == m->h ? m->h2 : m->h;
    }
}

int st_beat_tcn_run_plain(const st_beat_tcn *m, const float *features, int64_t n_frames, float *act)
{
    size_t t = (size_t)n_frames, columns = st_conv1d_scratch(&m->inp, n_frames);
    for (int b = 0; b < m->n_blocks; b++)
        if (st_conv1d_scratch(&m->block[b], n_frames) > columns)
            columns = st_conv1d_scratch(&m->block[b], n_frames);
    int widest = m->channels > 3 ? m->channels : 3;
    float *x = malloc(t * m->n_bands * sizeof *x), *h = malloc(t * widest * sizeof *h),
          *y = malloc(t * widest * sizeof *y), *scratch = malloc(columns * sizeof *scratch);
    if (!x || !h || !y || !scratch) {
        free(x), free(h), free(y), free(scratch);
        return -1;
    }
    for (size_t f = 0; f < t; f++)
        for (int b = 0; b < m->n_bands; b++)
            x[(size_t)b * t + f] = features[f * m->n_bands + b];
    st_conv1d_forward(&m->inp, x, n_frames, h, scratch);
    st_elu(h, t * m->channels, m->elu_alpha);
    for (int b = 0; b < m->n_blocks; b++) {
        st_conv1d_forward(&m->block[b], h, n_frames, y, scratch);
        st_elu(y, t * m->channels, m->elu_alpha);
        for (size_t i = 0; i < t * m->channels; i++)
            h[i] += y[i];
    }
    st_conv1d_forward(&m->out, h, n_frames, y, scratch);
    st_softmax_channels(y, 3, n_frames);
    for (size_t f = 0; f < t; f++) {
        act[2 * f] = y[t + f];
        act[2 * f + 1] = y[2 * t + f];
    }
    free(x), free(h), free(y), free(scratch);
    return 0;
}

int st_beat_tcn_default_path(char *path, size_t size)
{
    return st_model_default_path("beats_tcn.safetensors", path, size);
}
