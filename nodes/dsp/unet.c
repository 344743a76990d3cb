/* The U-Net mask model: loading with every shape checked, and the forward
 * pass of one patch through nn.c (im2col + sgemm), batch norms folded. */
#include "unet.h"

#include "nn.h"
#include "nn_weights.h"
#include "safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KERNEL = 5 };

/* Owns the folded weights (one block). */
struct st_unet {
    st_unet_info info;
    float compress, leaky_slope;
    st_conv2d enc[ST_UNET_MAX_DEPTH], dec[ST_UNET_MAX_DEPTH]; /* dec[depth-1]: the mask layer */
    float *weights;
    size_t scratch_floats;
};

/* Owns its buffers: cat[i] holds encoder level i's output, then (second half) the decoder's
 * output at the same size: the skip concatenation without a copy. */
struct st_unet_work {
    float *in, *scratch;
    float *cat[ST_UNET_MAX_DEPTH];
};

static int level_h(const st_unet *m, int i) { return m->info.bins >> (i + 1); }
static int level_w(const st_unet *m, int i) { return m->info.frames >> (i + 1); }
static size_t level_size(const st_unet *m, int i)
{
    return (size_t)level_h(m, i) * (size_t)level_w(m, i);
}

/* ---- metadata, strictly */
/* The metadata field `key` as a number in lo .. hi; whole: written as a whole number. */
static int meta_number(const st_safetensors *s, const char *key, int whole, double lo, double hi,
                       double *out, char *error, size_t size)
{
    const char *text = st_safetensors_meta(s, key);
    char *end;
    if (!text) {
        snprintf(error, size, "model metadata has no '%s'", key);
        return -1;
    }
    errno = 0;
    double v = whole ? (double)strtol(text, &end, 10) : strtod(text, &end);
    if (end == text || *end || (whole && errno) || !(v >= lo && v <= hi)) {
        snprintf(error, size, "model metadata '%s' = '%.40s' is not %s in %g .. %g", key, text,
                 whole ? "a whole number" : "a number", lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_widths(const char *text, st_unet_info *info, char *error, size_t size)
{
    info->depth = 0;
    for (const char *c = text;;) {
        char *end;
        errno = 0;
        long v = strtol(c, &end, 10);
        if (end == c || errno || v < 1 || v > 4096 || info->depth == ST_UNET_MAX_DEPTH ||
            (*end && *end != ',')) {
            snprintf(error, size,
                     "model metadata 'widths' = '%.60s' is not a list of 1 to %d widths in 1 .. "
                     "4096",
                     text, ST_UNET_MAX_DEPTH);
            return -1;
        }
        info->widths[info->depth++] = (int)v;
        if (!*end) return 0;
        c = end + 1;
    }
}

static int parse_sources(const char *text, st_unet_info *info, char *error, size_t size)
{
    info->n_sources = 0;
    for (const char *c = text;;) {
        size_t n = strcspn(c, ",");
        if (n == 0 || n >= sizeof info->source[0] || info->n_sources == ST_UNET_MAX_SOURCES) {
            snprintf(error, size,
                     "model metadata 'sources' = '%.60s' is not a list of 1 to %d names", text,
                     ST_UNET_MAX_SOURCES);
            return -1;
        }
        memcpy(info->source[info->n_sources], c, n);
        info->source[info->n_sources++][n] = 0;
        if (!c[n]) return 0;
        c += n + 1;
    }
}

/* ---- tensors */
/* Copies layer `prefix` (weight, bias, and its batch norm when bn) to *at and fills c. */
static int load_layer(const st_safetensors *s, const char *prefix, int bn, float eps, st_conv2d *c,
                      float **at, char *error, size_t size)
{
    int64_t shape[4] = {c->transposed ? c->c_in : c->c_out, c->transposed ? c->c_out : c->c_in,
                        KERNEL, KERNEL};
    float *weight, *bias;
    const float *stats[4];
    if (st_nn_take_layer(s, prefix, 4, shape, c->c_out, at, &weight, &bias, error, size)) return -1;
    if (bn) {
        char name[64];
        snprintf(name, sizeof name, "%s.bn", prefix);
        if (st_nn_take_batch_norm(s, name, c->c_out, stats, error, size)) return -1;
        if (c->transposed)
            st_fold_batch_norm_transposed(weight, bias, c->c_in, c->c_out, KERNEL * KERNEL,
                                          stats[0], stats[1], stats[2], stats[3], eps);
        else
            st_fold_batch_norm(weight, bias, c->c_out, (size_t)c->c_in * KERNEL * KERNEL, stats[0],
                               stats[1], stats[2], stats[3], eps);
    }
    c->weight = weight;
    c->bias = bias;
    return 0;
}

static st_conv2d layer(int c_in, int c_out, int transposed)
{
    return (st_conv2d){.c_in = c_in,
                       .c_out = c_out,
                       .kh = KERNEL,
                       .kw = KERNEL,
                       .sh = 2,
                       .sw = 2,
                       .dh = 1,
                       .dw = 1,
                       .ph = 2,
                       .pw = 2,
                       .transposed = transposed,
                       .oph = transposed,
                       .opw = transposed};
}

static int configure(st_unet *m, const st_safetensors *s, double *eps, char *error, size_t size)
{
    st_unet_info *info = &m->info;
    const char *format = st_safetensors_meta(s, "format");
    if (!format || strcmp(format, "strata-unet-1") != 0) {
        snprintf(error, size, "not a strata U-Net model (metadata format 'strata-unet-1')");
        return -1;
    }
    const char *window = st_safetensors_meta(s, "window");
    if (!window || strcmp(window, "hann") != 0) {
        snprintf(error, size, "model metadata 'window' must be 'hann'");
        return -1;
    }
    double whole[4], compress, slope;
    if (meta_number(s, "rate_hz", 0, 1000, 1e6, &info->rate_hz, error, size) ||
        meta_number(s, "n_fft", 1, 16, 65536, &whole[0], error, size) ||
        meta_number(s, "hop", 1, 1, 65536, &whole[1], error, size) ||
        meta_number(s, "bins", 1, 1, 65536 / 2 + 1, &whole[2], error, size) ||
        meta_number(s, "frames", 1, 1, 65536, &whole[3], error, size) ||
        meta_number(s, "compress", 0, 1e-3, 1e9, &compress, error, size) ||
        meta_number(s, "batch_norm_eps", 0, 1e-12, 1, eps, error, size) ||
        meta_number(s, "leaky_slope", 0, 0, 1, &slope, error, size))
        return -1;
    long n_fft = (long)whole[0], hop = (long)whole[1], bins = (long)whole[2],
         frames = (long)whole[3];
    const char *widths = st_safetensors_meta(s, "widths"), *sources;
    sources = st_safetensors_meta(s, "sources");
    if (!widths || !sources) {
        snprintf(error, size, "model metadata has no '%s'", widths ? "sources" : "widths");
        return -1;
    }
    if (parse_widths(widths, info, error, size) || parse_sources(sources, info, error, size))
        return -1;
    if (bins > n_fft / 2 + 1 || hop > n_fft) {
        snprintf(error, size, "model metadata: %ld bins or hop %ld do not fit n_fft %ld", bins, hop,
                 n_fft);
        return -1;
    }
    long unit = 1L << info->depth;
    if (bins % unit || frames % unit || bins * frames > (1L << 22)) {
        snprintf(error, size,
                 "model metadata: the patch (%ld bins x %ld frames) must be a multiple of 2^%d "
                 "both ways and at most 4M cells",
                 bins, frames, info->depth);
        return -1;
    }
    info->n_fft = (int)n_fft, info->hop_samples = (int)hop;
    info->bins = (int)bins, info->frames = (int)frames;
    m->compress = (float)compress, m->leaky_slope = (float)slope;
    return 0;
}

st_unet *st_unet_load(const char *path, char *error, size_t error_size)
{
    st_safetensors *s;
    if (st_safetensors_read(path, &s, error, error_size)) return NULL;
    st_unet *m = calloc(1, sizeof *m);
    char why[256] = "out of memory";
    double eps = 0;
    if (!m || configure(m, s, &eps, why, sizeof why)) goto fail;
    const st_unet_info *info = &m->info;
    const int depth = info->depth, *w = info->widths;
    /* the layers, and the weights they need */
    size_t n_weights = 0;
    for (int i = 0; i < depth; i++) {
        m->enc[i] = layer(i ? w[i - 1] : 1, w[i], 0);
        int level = depth - 1 - i; /* decoder layer i reads level `level` */
        int c_in = level == depth - 1 ? w[level] : 2 * w[level];
        m->dec[i] = layer(c_in, level ? w[level - 1] : info->n_sources, 1);
    }
    int n_tensors = 0;
    for (int i = 0; i < depth; i++) {
        const st_conv2d *e = &m->enc[i], *d = &m->dec[i];
        n_weights += (size_t)e->c_in * e->c_out * KERNEL * KERNEL + (size_t)e->c_out;
        n_weights += (size_t)d->c_in * d->c_out * KERNEL * KERNEL + (size_t)d->c_out;
        n_tensors += 6 + (i < depth - 1 ? 6 : 2);
    }
    if (s->n_tensors != n_tensors) {
        snprintf(why, sizeof why, "model has %d tensors; widths %s and %d sources need %d",
                 s->n_tensors, st_safetensors_meta(s, "widths"), info->n_sources, n_tensors);
        goto fail;
    }
    if (!(m->weights = malloc(n_weights * sizeof *m->weights))) goto fail;
    float *at = m->weights;
    for (int i = 0; i < depth; i++) {
        char name[32];
        snprintf(name, sizeof name, "enc%d", i);
        if (load_layer(s, name, 1, (float)eps, &m->enc[i], &at, why, sizeof why)) goto fail;
        snprintf(name, sizeof name, "dec%d", i);
        if (load_layer(s, name, i < depth - 1, (float)eps, &m->dec[i], &at, why, sizeof why))
            goto fail;
    }
    m->info.n_params = (int)(n_weights); /* before folding: same count (BN folded away) */
    for (int i = 0; i < depth; i++) {
        size_t a = st_conv2d_scratch(&m->enc[i], info->bins >> i, info->frames >> i);
        int level = depth - 1 - i;
        size_t b = st_conv2d_scratch(&m->dec[i], level_h(m, level), level_w(m, level));
        if (a > m->scratch_floats) m->scratch_floats = a;
        if (b > m->scratch_floats) m->scratch_floats = b;
    }
    st_safetensors_free(s);
    return m;
fail:
    snprintf(error, error_size, "%s: %s", path, why);
    st_safetensors_free(s);
    st_unet_free(m);
    return NULL;
}

void st_unet_free(st_unet *m)
{
    if (!m) return;
    free(m->weights);
    free(m);
}

const st_unet_info *st_unet_describe(const st_unet *m) { return &m->info; }

double st_unet_flops(const st_unet *m)
{
    double f = 0;
    for (int i = 0; i < m->info.depth; i++) {
        const st_conv2d *e = &m->enc[i], *d = &m->dec[i];
        int level = m->info.depth - 1 - i;
        f += 2.0 * e->c_in * e->c_out * KERNEL * KERNEL * (double)level_size(m, i);
        f += 2.0 * d->c_in * d->c_out * KERNEL * KERNEL * (double)level_size(m, level);
    }
    return f;
}

st_unet_work *st_unet_work_new(const st_unet *m)
{
    st_unet_work *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    int ok = (w->in = malloc(sizeof(float) * (size_t)m->info.bins * m->info.frames)) &&
             (w->scratch = malloc(sizeof(float) * m->scratch_floats));
    for (int i = 0; ok && i < m->info.depth; i++)
        ok = (w->cat[i] = malloc(sizeof(float) * 2 * m->info.widths[i] * level_size(m, i))) != NULL;
    if (!ok) {
        st_unet_work_free(w);
        return NULL;
    }
    return w;
}

void st_unet_work_free(st_unet_work *w)
{
    if (!w) return;
    free(w->in);
    free(w->scratch);
    for (int i = 0; i < ST_UNET_MAX_DEPTH; i++)
        free(w->cat[i]);
    free(w);
}

void st_unet_forward(const st_unet *m, st_unet_work *w, const float *mag, float *masks)
{
    const int depth = m->info.depth, H = m->info.bins, W = m->info.frames;
    const size_t n = (size_t)H * W;
    float peak = 0;
    for (size_t i = 0; i < n; i++)
        if (mag[i] > peak) peak = mag[i];
    const float scale = m->compress / (peak + 1e-8f), norm = 1.0f / log1pf(m->compress);
    for (size_t i = 0; i < n; i++)
        w->in[i] = log1pf(mag[i] * scale) * norm;
    const float *x = w->in;
    for (int i = 0; i < depth; i++) {
        st_conv2d_forward(&m->enc[i], x, H >> i, W >> i, w->cat[i], w->scratch);
        st_leaky_relu(w->cat[i], (size_t)m->info.widths[i] * level_size(m, i), m->leaky_slope);
        x = w->cat[i];
    }
    for (int i = 0; i < depth - 1; i++) {
        int level = depth - 1 - i;
        float *y = w->cat[level - 1] + (size_t)m->info.widths[level - 1] * level_size(m, level - 1);
        st_conv2d_forward(&m->dec[i], w->cat[level], level_h(m, level), level_w(m, level), y,
                          w->scratch);
        st_relu(y, (size_t)m->info.widths[level - 1] * level_size(m, level - 1));
    }
    st_conv2d_forward(&m->dec[depth - 1], w->cat[0], level_h(m, 0), level_w(m, 0), masks,
                      w->scratch);
    st_sigmoid(masks, (size_t)m->info.n_sources * n);
}
