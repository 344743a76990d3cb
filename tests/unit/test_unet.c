/* The U-Net: the C forward pass against PyTorch's masks on the fixtures that
 * tools/train/unet.py writes, and model files that must be refused (truncated,
 * wrong shapes, missing tensors, bad metadata, values that are not finite). */
#include "../../nodes/dsp/safetensors.h"
#include "../../nodes/dsp/unet.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void models_path(char *out, size_t size, const char *file)
{
    const char *dir = getenv("STRATA_MODELS");
    snprintf(out, size, "%s/%s", dir ? dir : "models", file);
}

/* Runs model on the io fixture's magnitude; the largest difference from its masks. */
static void check_forward(const char *what, const char *model_file, const char *io_file)
{
    char model[1024], io[1024], error[512], name[160];
    models_path(model, sizeof model, model_file);
    models_path(io, sizeof io, io_file);
    st_safetensors *fx;
    st_unet *net = st_unet_load(model, error, sizeof error);
    snprintf(name, sizeof name, "%s: the model loads", what);
    CHECK(name, net != NULL, "%s", error);
    if (!net) return;
    if (st_safetensors_read(io, &fx, error, sizeof error)) {
        CHECK(name, 0, "%s", error);
        st_unet_free(net);
        return;
    }
    const st_unet_info *info = st_unet_describe(net);
    const st_tensor *mag = st_safetensors_find(fx, "magnitude"),
                    *want = st_safetensors_find(fx, "masks");
    size_t n = (size_t)info->bins * info->frames;
    int fits = mag && want && mag->n_elems == (int64_t)n &&
               want->n_elems == (int64_t)(n * info->n_sources);
    snprintf(name, sizeof name, "%s: the fixture fits the model", what);
    CHECK(name, fits, "magnitude or masks missing or of the wrong size");
    if (fits) {
        float *masks = malloc(sizeof(float) * n * info->n_sources);
        st_unet_work *w = st_unet_work_new(net);
        st_unet_forward(net, w, mag->data, masks);
        float d = 0, lo = 1, hi = 0;
        for (size_t i = 0; i < n * info->n_sources; i++) {
            d = fmaxf(d, fabsf(masks[i] - want->data[i]));
            lo = fminf(lo, want->data[i]), hi = fmaxf(hi, want->data[i]);
        }
        snprintf(name, sizeof name, "%s: C forward equals PyTorch's (1e-4)", what);
        CHECK(name, d < 1e-4, "differs by %g", d);
        snprintf(name, sizeof name, "%s: the masks are not constant", what);
        CHECK(name, hi - lo > 0.05, "range %g .. %g", lo, hi);
        st_unet_work_free(w);
        free(masks);
    }
    st_safetensors_free(fx);
    st_unet_free(net);
}

/* ---- a small safetensors writer for the hostile cases */
typedef struct {
    const char *drop;     /* leave this tensor out */
    const char *reshape;  /* give this tensor the shape 1 x n */
    const char *poison;   /* put a NaN in this tensor */
    const char *negate;   /* make this tensor's fourth value negative */
    const char *meta_key; /* replace this metadata value */
    const char *meta_value;
} damage;

static int write_model(const char *path, const st_safetensors *s, const damage *d)
{
    size_t cap = 1 << 16, len = 0;
    char *h = malloc(cap);
    int64_t offset = 0;
    len += snprintf(h + len, cap - len, "{");
    for (int i = 0; i < s->n_tensors; i++) {
        const st_tensor *t = &s->tensor[i];
        if (d->drop && !strcmp(t->name, d->drop)) continue;
        len += snprintf(h + len, cap - len, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[",
                        len > 1 ? "," : "", t->name);
        if (d->reshape && !strcmp(t->name, d->reshape))
            len += snprintf(h + len, cap - len, "1,%lld", (long long)t->n_elems);
        else
            for (int k = 0; k < t->n_dims; k++)
                len += snprintf(h + len, cap - len, "%s%lld", k ? "," : "", (long long)t->shape[k]);
        len += snprintf(h + len, cap - len, "],\"data_offsets\":[%lld,%lld]}", (long long)offset,
                        (long long)(offset + 4 * t->n_elems));
        offset += 4 * t->n_elems;
    }
    len += snprintf(h + len, cap - len, ",\"__metadata__\":{");
    for (int i = 0; i < s->n_meta; i++) {
        const char *v =
            d->meta_key && !strcmp(s->meta_key[i], d->meta_key) ? d->meta_value : s->meta_value[i];
        len += snprintf(h + len, cap - len, "%s\"%s\":\"%s\"", i ? "," : "", s->meta_key[i], v);
    }
    len += snprintf(h + len, cap - len, "}}");
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(h);
        return -1;
    }
    for (int i = 0; i < 8; i++)
        fputc((int)(((uint64_t)len >> (8 * i)) & 0xFF), f);
    fwrite(h, 1, len, f);
    for (int i = 0; i < s->n_tensors; i++) {
        const st_tensor *t = &s->tensor[i];
        if (d->drop && !strcmp(t->name, d->drop)) continue;
        for (int64_t k = 0; k < t->n_elems; k++) {
            float v = d->poison && !strcmp(t->name, d->poison) && k == 3 ? NAN : t->data[k];
            if (d->negate && !strcmp(t->name, d->negate) && k == 3) v = -1.0f - fabsf(v);
            fwrite(&v, 4, 1, f); /* little-endian host, as the reader assumes */
        }
    }
    fclose(f);
    free(h);
    return 0;
}

static void test_refused(void)
{
    char model[1024], error[512], path[] = "/tmp/strata-unet-test-XXXXXX";
    models_path(model, sizeof model, "unet_fixture.safetensors");
    st_safetensors *s;
    if (st_safetensors_read(model, &s, error, sizeof error)) {
        CHECK("unet: fixture model readable", 0, "%s", error);
        return;
    }
    int fd = mkstemp(path);
    if (fd < 0) {
        CHECK("unet: a temporary file", 0, "mkstemp failed");
        st_safetensors_free(s);
        return;
    }
    close(fd);
    static const struct {
        const char *what;
        damage d;
        const char *reason;
    } cases[] = {
        {"a missing tensor", {.drop = "dec0.bias"}, "tensors"},
        {"a weight of the wrong shape", {.reshape = "enc1.weight"}, "'enc1.weight' is 1 x"},
        {"a batch norm of the wrong shape",
         {.reshape = "enc0.bn.running_var"},
         "enc0.bn.running_var"},
        {"a NaN weight", {.poison = "dec1.weight"}, "not finite"},
        {"a negative batch-norm variance",
         {.negate = "enc0.bn.running_var"},
         "'enc0.bn.running_var' has a negative variance"},
        {"another format",
         {.meta_key = "format", .meta_value = "strata beats tcn 1"},
         "not a strata U-Net"},
        {"widths that disagree with the tensors",
         {.meta_key = "widths", .meta_value = "4,8,32"},
         "expected"},
        {"a patch that does not halve",
         {.meta_key = "bins", .meta_value = "60"},
         "multiple of 2^3"},
        {"a hop that is not a number", {.meta_key = "hop", .meta_value = "512x"}, "'hop'"},
        {"no sources", {.meta_key = "sources", .meta_value = ""}, "'sources'"},
        {"a sample rate out of range", {.meta_key = "rate_hz", .meta_value = "-1"}, "'rate_hz'"},
        {"another window", {.meta_key = "window", .meta_value = "hamming"}, "'window'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        char name[160];
        snprintf(name, sizeof name, "unet: %s is refused with one line", cases[k].what);
        write_model(path, s, &cases[k].d);
        error[0] = 0;
        st_unet *m = st_unet_load(path, error, sizeof error);
        CHECK(name,
              !m && strstr(error, cases[k].reason) && !strchr(error, '\n') && strstr(error, path),
              "loaded %d, message '%s'", m != NULL, error);
        st_unet_free(m);
    }
    /* the undamaged copy loads (the writer above is right) */
    write_model(path, s, &(damage){0});
    st_unet *m = st_unet_load(path, error, sizeof error);
    CHECK("unet: an undamaged rewrite of the fixture loads", m != NULL, "%s", error);
    st_unet_free(m);
    /* every truncation, in steps */
    FILE *f = fopen(model, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *bytes = malloc((size_t)size);
    size_t got = fread(bytes, 1, (size_t)size, f);
    fclose(f);
    int refused = 0, tried = 0;
    for (long cut = 0; got == (size_t)size && cut < size; cut += 1 + cut / 8) {
        FILE *g = fopen(path, "wb");
        fwrite(bytes, 1, (size_t)cut, g);
        fclose(g);
        st_unet *t = st_unet_load(path, error, sizeof error);
        refused += !t && strstr(error, path) != NULL;
        tried++;
        st_unet_free(t);
    }
    CHECK("unet: every truncation of the model is refused", refused == tried && tried > 20,
          "%d of %d refused", refused, tried);
    free(bytes);
    unlink(path);
    st_safetensors_free(s);
}

void test_unet(void)
{
    check_forward("unet fixture (random weights, 3 levels)", "unet_fixture.safetensors",
                  "unet_fixture_io.safetensors");
    check_forward("unet shipped model", "unet.safetensors", "unet_io.safetensors");
    test_refused();
}
