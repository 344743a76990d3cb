/* The inference core (nn.c) against direct loops written from PyTorch's
 * definitions; the safetensors reader on good, truncated and hostile files;
 * the beat front end and TCN against what training wrote (the fixture in
 * models/: a signal, numpy's features, PyTorch's activations). */
#include "../../nodes/dsp/beat_tcn.h"
#include "../../nodes/dsp/logspec.h"
#include "../../nodes/dsp/nn.h"
#include "../../nodes/dsp/safetensors.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static float frand(unsigned *s)
{
    *s = *s * 1664525u + 1013904223u;
    return (float)((*s >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static float *random_array(size_t n, unsigned seed)
{
    float *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++)
        a[i] = frand(&seed);
    return a;
}

static float max_diff(const float *a, const float *b, size_t n)
{
    float d = 0;
    for (size_t i = 0; i < n; i++)
        d = fmaxf(d, fabsf(a[i] - b[i]));
    return d;
}

/* torch.nn.functional.conv1d / conv_transpose1d, written out */
static void direct_conv1d(const st_conv1d *c, const float *x, int64_t t_in, float *y)
{
    int64_t t_out = st_conv1d_out(c, t_in);
    for (int o = 0; o < c->c_out; o++)
        for (int64_t i = 0; i < t_out; i++)
            y[o * t_out + i] = c->bias ? c->bias[o] : 0;
    for (int ci = 0; ci < c->c_in; ci++)
        for (int o = 0; o < c->c_out; o++)
            for (int j = 0; j < c->kernel; j++)
                for (int64_t i = 0; i < (c->transposed ? t_in : t_out); i++) {
                    if (c->transposed) {
                        int64_t at = i * c->stride - c->padding + (int64_t)j * c->dilation;
                        if (at >= 0 && at < t_out)
                            y[o * t_out + at] +=
                                x[ci * t_in + i] * c->weight[(ci * c->c_out + o) * c->kernel + j];
                    } else {
                        int64_t at = i * c->stride - c->padding + (int64_t)j * c->dilation;
                        if (at >= 0 && at < t_in)
                            y[o * t_out + i] +=
                                x[ci * t_in + at] * c->weight[(o * c->c_in + ci) * c->kernel + j];
                    }
                }
}

static void direct_conv2d(const st_conv2d *c, const float *x, int64_t h, int64_t w, float *y)
{
    int64_t ho, wo;
    st_conv2d_out(c, h, w, &ho, &wo);
    for (int o = 0; o < c->c_out; o++)
        for (int64_t i = 0; i < ho * wo; i++)
            y[o * ho * wo + i] = c->bias ? c->bias[o] : 0;
    for (int ci = 0; ci < c->c_in; ci++)
        for (int o = 0; o < c->c_out; o++)
            for (int a = 0; a < c->kh; a++)
                for (int b = 0; b < c->kw; b++) {
                    float wt = c->transposed
                                   ? c->weight[((ci * c->c_out + o) * c->kh + a) * c->kw + b]
                                   : c->weight[((o * c->c_in + ci) * c->kh + a) * c->kw + b];
                    int64_t ni = c->transposed ? h : ho, nj = c->transposed ? w : wo;
                    for (int64_t i = 0; i < ni; i++)
                        for (int64_t j = 0; j < nj; j++) {
                            int64_t r = i * c->sh - c->ph + (int64_t)a * c->dh;
                            int64_t q = j * c->sw - c->pw + (int64_t)b * c->dw;
                            if (c->transposed) {
                                if (r >= 0 && r < ho && q >= 0 && q < wo)
                                    y[(o * ho + r) * wo + q] += x[(ci * h + i) * w + j] * wt;
                            } else if (r >= 0 && r < h && q >= 0 && q < w) {
                                y[(o * ho + i) * wo + j] += x[(ci * h + r) * w + q] * wt;
                            }
                        }
                }
}

static void test_layers(void)
{
    char name[128];
    const st_conv1d cases1[] = {
        {.c_in = 5, .c_out = 7, .kernel = 3, .stride = 1, .dilation = 1, .padding = 1},
        {.c_in = 4, .c_out = 3, .kernel = 5, .stride = 1, .dilation = 8, .padding = 16},
        /* taps that reach past both ends of the input (the TCN's last blocks on a short song) */
        {.c_in = 2, .c_out = 3, .kernel = 5, .stride = 1, .dilation = 64, .padding = 128},
        {.c_in = 2, .c_out = 2, .kernel = 3, .stride = 1, .dilation = 30, .padding = 20},
        {.c_in = 3, .c_out = 6, .kernel = 4, .stride = 3, .dilation = 2, .padding = 2},
        {.c_in = 6, .c_out = 2, .kernel = 1, .stride = 1, .dilation = 1, .padding = 0},
        {.c_in = 4,
         .c_out = 5,
         .kernel = 3,
         .stride = 2,
         .dilation = 1,
         .padding = 1,
         .transposed = 1,
         .output_padding = 1},
        {.c_in = 3,
         .c_out = 2,
         .kernel = 4,
         .stride = 3,
         .dilation = 2,
         .padding = 0,
         .transposed = 1},
    };
    /* each case on a short input and on one longer than the im2col block (1024 frames) */
    for (size_t kk = 0; kk < 2 * (sizeof cases1 / sizeof *cases1); kk++) {
        size_t k = kk / 2;
        st_conv1d c = cases1[k];
        int64_t t_in = kk % 2 ? 2600 : 37, t_out = st_conv1d_out(&c, t_in);
        float *w = random_array((size_t)c.c_in * c.c_out * c.kernel, 1 + (unsigned)k);
        float *b = random_array((size_t)c.c_out, 7 + (unsigned)k);
        float *x = random_array((size_t)c.c_in * t_in, 11 + (unsigned)k);
        c.weight = w, c.bias = b;
        float *y = calloc((size_t)c.c_out * t_out, sizeof *y),
              *want = calloc((size_t)c.c_out * t_out, sizeof *want);
        float *scratch = malloc((st_conv1d_scratch(&c, t_in) + 1) * sizeof *scratch);
        st_conv1d_forward(&c, x, t_in, y, scratch);
        direct_conv1d(&c, x, t_in, want);
        snprintf(name, sizeof name, "nn conv1d%s k%d s%d d%d p%d, %lld frames",
                 c.transposed ? " transposed" : "", c.kernel, c.stride, c.dilation, c.padding,
                 (long long)t_in);
        CHECK(name, max_diff(y, want, (size_t)c.c_out * t_out) < 1e-4, "differs by %g",
              max_diff(y, want, (size_t)c.c_out * t_out));
        free(w), free(b), free(x), free(y), free(want), free(scratch);
    }
    const st_conv2d cases2[] = {
        {.c_in = 3,
         .c_out = 4,
         .kh = 3,
         .kw = 3,
         .sh = 1,
         .sw = 1,
         .dh = 1,
         .dw = 1,
         .ph = 1,
         .pw = 1},
        {.c_in = 2,
         .c_out = 5,
         .kh = 3,
         .kw = 5,
         .sh = 2,
         .sw = 1,
         .dh = 2,
         .dw = 3,
         .ph = 0,
         .pw = 2},
        {.c_in = 4,
         .c_out = 3,
         .kh = 5,
         .kw = 5,
         .sh = 2,
         .sw = 2,
         .dh = 1,
         .dw = 1,
         .ph = 2,
         .pw = 2,
         .transposed = 1,
         .oph = 1,
         .opw = 1},
    };
    for (size_t k = 0; k < sizeof cases2 / sizeof *cases2; k++) {
        st_conv2d c = cases2[k];
        int64_t h = 9, w = 13, ho, wo;
        st_conv2d_out(&c, h, w, &ho, &wo);
        float *wt = random_array((size_t)c.c_in * c.c_out * c.kh * c.kw, 3 + (unsigned)k);
        float *b = random_array((size_t)c.c_out, 5 + (unsigned)k);
        float *x = random_array((size_t)c.c_in * h * w, 9 + (unsigned)k);
        c.weight = wt, c.bias = b;
        size_t n = (size_t)c.c_out * ho * wo;
        float *y = calloc(n, sizeof *y), *want = calloc(n, sizeof *want);
        float *scratch = malloc((st_conv2d_scratch(&c, h, w) + 1) * sizeof *scratch);
        st_conv2d_forward(&c, x, h, w, y, scratch);
        direct_conv2d(&c, x, h, w, want);
        snprintf(name, sizeof name, "nn conv2d%s %dx%d stride %dx%d dilation %dx%d",
                 c.transposed ? " transposed" : "", c.kh, c.kw, c.sh, c.sw, c.dh, c.dw);
        CHECK(name, max_diff(y, want, n) < 1e-4, "differs by %g", max_diff(y, want, n));
        free(wt), free(b), free(x), free(y), free(want), free(scratch);
    }
    /* batch norm folded = conv then batch norm */
    {
        st_conv1d c = {
            .c_in = 3, .c_out = 4, .kernel = 3, .stride = 1, .dilation = 2, .padding = 2};
        float *w = random_array(36, 21), *b = random_array(4, 22), *x = random_array(3 * 20, 23);
        float gamma[4] = {1.5f, 0.5f, -1, 2}, beta[4] = {0.1f, 0, -0.3f, 1},
              mean[4] = {0.2f, -1, 0, 3}, var[4] = {1, 0.25f, 4, 0.01f};
        float y[80], want[80], scratch[3 * 3 * 20];
        c.weight = w, c.bias = b;
        direct_conv1d(&c, x, 20, want);
        for (int o = 0; o < 4; o++)
            for (int i = 0; i < 20; i++)
                want[o * 20 + i] =
                    (want[o * 20 + i] - mean[o]) / sqrtf(var[o] + 1e-5f) * gamma[o] + beta[o];
        st_fold_batch_norm(w, b, 4, 9, gamma, beta, mean, var, 1e-5f);
        st_conv1d_forward(&c, x, 20, y, scratch);
        CHECK("nn batch norm folded into a conv", max_diff(y, want, 80) < 1e-4, "differs by %g",
              max_diff(y, want, 80));
        free(w), free(b), free(x);
    }
    {
        float x[6] = {1, 2, 3, -1, 0, 5}, y[6]; /* 3 channels x 2 steps */
        memcpy(y, x, sizeof x);
        st_softmax_channels(y, 3, 2);
        float e0 = expf(1) + expf(3) + expf(0), e1 = expf(2) + expf(-1) + expf(5);
        CHECK("nn softmax over channels",
              fabsf(y[0] - expf(1) / e0) < 1e-6 && fabsf(y[5] - expf(5) / e1) < 1e-6 &&
                  fabsf(y[0] + y[2] + y[4] - 1) < 1e-6,
              "%g %g", y[0], y[5]);
        float a[4] = {-2, -0.5f, 0, 3};
        st_elu(a, 4, 1.0f);
        float r[4] = {-2, -0.5f, 0, 3};
        st_leaky_relu(r, 4, 0.1f);
        float s[2] = {0, 100};
        st_sigmoid(s, 2);
        CHECK("nn elu, leaky relu, sigmoid",
              fabsf(a[0] - expm1f(-2)) < 1e-7 && a[3] == 3 && r[0] == -0.2f && r[3] == 3 &&
                  s[0] == 0.5f && s[1] == 1.0f,
              "%g %g %g", a[0], r[0], s[0]);
        float p[2 * 7] = {1, 5, 2, 8, 3, 0, 9, 4, 4, 4, 1, 2, 7, 6}, q[2 * 3];
        st_maxpool1d(p, 2, 7, 2, 2, q);
        CHECK("nn max-pool 1-D (floor mode)",
              q[0] == 5 && q[1] == 8 && q[2] == 3 && q[3] == 4 && q[5] == 7, "%g %g %g", q[0], q[1],
              q[2]);
        float g[1 * 4 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, gp[4];
        st_maxpool2d(g, 1, 4, 4, 2, 2, 2, 2, gp);
        CHECK("nn max-pool 2-D", gp[0] == 6 && gp[1] == 8 && gp[2] == 14 && gp[3] == 16, "%g",
              gp[0]);
        float dx[2 * 3] = {1, 2, 3, 4, 5, 6}, dw[2 * 3] = {1, 0, -1, 0.5f, 0.5f, 0.5f},
                     db[2] = {10, 0}, dy[4];
        st_dense(dx, 2, 3, 2, dw, db, dy);
        CHECK("nn dense", dy[0] == 8 && dy[1] == 3 && dy[2] == 8 && dy[3] == 7.5f, "%g %g %g %g",
              dy[0], dy[1], dy[2], dy[3]);
    }
}

/* A minimal valid file: header text + data. */
static unsigned char *make_file(const char *header, const unsigned char *data, size_t n_data,
                                size_t *size)
{
    size_t h = strlen(header);
    unsigned char *b = malloc(8 + h + n_data + 1);
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(((uint64_t)h >> (8 * i)) & 0xFF);
    memcpy(b + 8, header, h);
    if (n_data) memcpy(b + 8 + h, data, n_data);
    *size = 8 + h + n_data;
    return b;
}

static void test_safetensors(void)
{
    unsigned char data[24];
    float v[6] = {1, -2, 3.5f, 0, 1e-3f, 42};
    memcpy(data, v, sizeof v); /* little-endian host */
    size_t size;
    char error[256];
    st_safetensors *s;
    unsigned char *f =
        make_file("{\"__metadata__\":{\"format\":\"x\",\"n\\u00e9\":\"\\\"q\\\"\"},"
                  "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                  "\"b\":{\"shape\":[2],\"data_offsets\":[16,24],\"dtype\":\"F32\"}}",
                  data, 24, &size);
    int status = st_safetensors_parse(f, size, &s, error, sizeof error);
    CHECK("safetensors: a good file", status == 0, "%s", error);
    if (status == 0) {
        const st_tensor *a = st_safetensors_find(s, "a"), *b = st_safetensors_find(s, "b");
        CHECK("safetensors: shapes, values and metadata",
              a && b && a->n_dims == 2 && a->shape[1] == 2 && a->data[2] == 3.5f &&
                  b->data[1] == 42 && strcmp(st_safetensors_meta(s, "format"), "x") == 0 &&
                  strcmp(st_safetensors_meta(s, "n\xc3\xa9"), "\"q\"") == 0,
              "wrong contents");
        st_safetensors_free(s);
    }
    /* every truncation of a good file is refused */
    int truncations_refused = 1;
    for (size_t cut = 0; cut < size; cut++)
        if (st_safetensors_parse(f, cut, &s, error, sizeof error) == 0) {
            truncations_refused = 0;
            st_safetensors_free(s);
        }
    CHECK("safetensors: every truncation refused", truncations_refused, "a truncated file parsed");
    free(f);

    static const struct {
        const char *what, *header;
        size_t n_data;
        const char *reason;
    } bad[] = {
        {"not JSON", "hello", 0, "expected '{'"},
        {"unterminated string", "{\"a", 0, "unterminated"},
        {"wrong dtype", "{\"a\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8,
         "F64"},
        {"offsets beyond the data",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8, "cover"},
        {"offsets against the shape",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, "do not hold"},
        {"reversed offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[8,0]}}", 8,
         "do not hold"},
        {"overlapping tensors",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "overlaps"},
        {"a gap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap"},
        {"a duplicate name",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "twice"},
        {"a huge shape",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":["
         "0,8]}}",
         8, "absurdly"},
        {"a negative number", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,8]}}",
         8, "count"},
        {"too many dimensions",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}", 4,
         "more than"},
        {"a missing field", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "all needed"},
        {"an unknown field",
         "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
         "unexpected"},
        {"trailing bytes in the header", "{} x", 0, "after"},
        {"a NUL escape", "{\"\\u0000\":{}}", 0, "not allowed"},
        {"a control character", "{\"a\tb\":{}}", 0, "control"},
        {"metadata that is not a string", "{\"__metadata__\":{\"k\":1}}", 0, "expected '\"'"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        unsigned char zeros[16] = {0};
        f = make_file(bad[k].header, zeros, bad[k].n_data, &size);
        error[0] = 0;
        status = st_safetensors_parse(f, size, &s, error, sizeof error);
        char name[128];
        snprintf(name, sizeof name, "safetensors: %s is refused", bad[k].what);
        CHECK(name, status != 0 && strstr(error, bad[k].reason), "status %d, message '%s'", status,
              error);
        if (status == 0) st_safetensors_free(s);
        free(f);
    }
    /* a header length larger than the file, and one near 2^64 */
    unsigned char lying[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, '{', '}'};
    status = st_safetensors_parse(lying, 10, &s, error, sizeof error);
    CHECK("safetensors: a header length beyond the file",
          status != 0 && strstr(error, "does not fit"), "%s", error);
    status = st_safetensors_read("/nonexistent/model.safetensors", &s, error, sizeof error);
    CHECK("safetensors: a missing file is named",
          status != 0 && strstr(error, "/nonexistent/model"), "%s", error);
}

static void test_beat_model(void)
{
    const char *dir = getenv("STRATA_MODELS");
    char fixture[1024], model[1024], error[512];
    snprintf(fixture, sizeof fixture, "%s/beats_tcn_fixture.safetensors", dir ? dir : "models");
    snprintf(model, sizeof model, "%s/beats_tcn.safetensors", dir ? dir : "models");
    st_safetensors *fx;
    if (st_safetensors_read(fixture, &fx, error, sizeof error)) {
        CHECK("beat model fixture", 0, "%s", error);
        return;
    }
    const st_tensor *signal = st_safetensors_find(fx, "signal"),
                    *features = st_safetensors_find(fx, "features"),
                    *act = st_safetensors_find(fx, "activations");
    st_logspec *spec = st_logspec_create();
    st_beat_tcn *net = st_beat_tcn_load(model, error, sizeof error);
    CHECK("beat model loads", net && spec && signal && features && act, "%s",
          net ? "fixture incomplete" : error);
    if (net && spec && signal && features && act) {
        int64_t n = st_logspec_n_frames(signal->n_elems);
        int bands = st_logspec_n_bands(spec);
        float *ours = malloc((size_t)n * bands * sizeof *ours),
              *out = malloc((size_t)n * 2 * sizeof *out);
        st_logspec_compute(spec, signal->data, signal->n_elems, ours, 2);
        CHECK("beat front end: frames and bands as numpy's",
              features->n_dims == 2 && features->shape[0] == n && features->shape[1] == bands,
              "%lld x %d", (long long)n, bands);
        if (features->shape[0] == n && features->shape[1] == bands) {
            float d = max_diff(ours, features->data, (size_t)n * bands);
            CHECK("beat front end equals numpy's (log10 units, 1e-3)", d < 1e-3, "differs by %g",
                  d);
        }
        if (st_beat_tcn_plan(net, features->shape[0], 2) == 0 &&
            act->shape[0] == features->shape[0]) {
            st_beat_tcn_run(net, features->data, features->shape[0], out);
            float d = max_diff(out, act->data, (size_t)act->n_elems);
            CHECK("beat TCN forward pass equals PyTorch's (1e-4)", d < 1e-4, "differs by %g", d);
        }
        free(ours), free(out);
    }
    st_beat_tcn_destroy(net);
    st_logspec_destroy(spec);
    st_safetensors_free(fx);
}

/* A copy of the shipped model with one batch-norm variance made negative is
 * refused in one line (its square root would divide the folded weights).
 * The variance is found in the file's bytes by its first four values. */
static void test_beat_model_refused(void)
{
    const char *dir = getenv("STRATA_MODELS");
    char model[1024], error[512], path[] = "/tmp/strata-tcn-test-XXXXXX";
    snprintf(model, sizeof model, "%s/beats_tcn.safetensors", dir ? dir : "models");
    st_safetensors *s;
    if (st_safetensors_read(model, &s, error, sizeof error)) {
        CHECK("beat model readable", 0, "%s", error);
        return;
    }
    const st_tensor *var = st_safetensors_find(s, "bns.0.running_var");
    FILE *f = fopen(model, "rb");
    unsigned char *bytes = NULL;
    long size = 0;
    if (f && !fseek(f, 0, SEEK_END) && (size = ftell(f)) > 0 && !fseek(f, 0, SEEK_SET) &&
        (bytes = malloc((size_t)size)) && fread(bytes, 1, (size_t)size, f) != (size_t)size) {
        free(bytes);
        bytes = NULL;
    }
    if (f) fclose(f);
    long at = -1;
    for (long k = 0; bytes && var && var->n_elems >= 4 && k + 16 <= size && at < 0; k++)
        if (!memcmp(bytes + k, var->data, 16)) at = k;
    int fd = at >= 0 ? mkstemp(path) : -1;
    CHECK("beat model: a variance found in the file and a temporary file", fd >= 0, "at %ld", at);
    if (fd >= 0) {
        float v = -1.0f - fabsf(var->data[0]);
        memcpy(bytes + at, &v, 4); /* little-endian host, as the reader assumes */
        int written = write(fd, bytes, (size_t)size) == size;
        error[0] = 0;
        close(fd);
        st_beat_tcn *net = written ? st_beat_tcn_load(path, error, sizeof error) : NULL;
        CHECK("beat model: a negative batch-norm variance is refused with one line",
              written && !net && strstr(error, "'bns.0.running_var' has a negative variance") &&
                  !strchr(error, '\n'),
              "loaded %d, message '%s'", net != NULL, error);
        st_beat_tcn_destroy(net);
        unlink(path);
    }
    free(bytes);
    st_safetensors_free(s);
}

/* The network in blocks of ST_CONV1D_BLOCK frames over two threads must be
 * the layer-by-layer network: features of 2.6 blocks, so that the two
 * threads meet inside a layer and the last block is partial. */
static void test_beat_model_blocks(void)
{
    const char *dir = getenv("STRATA_MODELS");
    char model[1024], error[512];
    snprintf(model, sizeof model, "%s/beats_tcn.safetensors", dir ? dir : "models");
    st_beat_tcn *net = st_beat_tcn_load(model, error, sizeof error);
    CHECK("beat model loads for the block test", net, "%s", error);
    if (!net) return;
    const int64_t n = 2 * ST_CONV1D_BLOCK + 613;
    size_t n_features = (size_t)n * st_beat_tcn_n_bands(net);
    float *features = malloc(n_features * sizeof *features),
          *plain = malloc((size_t)n * 2 * sizeof *plain),
          *one = malloc((size_t)n * 2 * sizeof *one), *two = malloc((size_t)n * 2 * sizeof *two);
    uint32_t state = 12345;
    for (size_t i = 0; i < n_features; i++) { /* log(1 + x)-like values, 0 .. 3 */
        state = state * 1664525u + 1013904223u;
        features[i] = 3.0f * (float)(state >> 8) / 16777216.0f;
    }
    int ok = st_beat_tcn_run_plain(net, features, n, plain) == 0;
    ok = ok && st_beat_tcn_plan(net, n, 1) == 0;
    if (ok) st_beat_tcn_run(net, features, n, one);
    ok = ok && st_beat_tcn_plan(net, n, 2) == 0;
    if (ok) st_beat_tcn_run(net, features, n, two);
    CHECK("beat TCN: blocks and threads planned", ok, "out of memory");
    if (ok) {
        float d = max_diff(one, plain, (size_t)n * 2);
        CHECK("beat TCN in blocks equals the layer-by-layer network (1e-6)", d < 1e-6,
              "differs by %g", d);
        CHECK("beat TCN: two threads give one thread's numbers to the bit",
              memcmp(one, two, (size_t)n * 2 * sizeof *one) == 0, "they differ");
    }
    free(features), free(plain), free(one), free(two);
    st_beat_tcn_destroy(net);
}

void test_nn(void)
{
    test_beat_model_blocks();
    test_layers();
    test_safetensors();
    test_beat_model();
    test_beat_model_refused();
}
