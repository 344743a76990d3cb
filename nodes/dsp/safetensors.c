/* safetensors reader: a bounded recursive-descent JSON parser for the header
 * (only the shapes the format allows), then checks of every tensor's extent. */
#include "safetensors.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HEADER  (100u << 20) /* the format's own limit */
#define MAX_TENSORS 65536
#define MAX_FILE    (1ull << 30)

typedef struct {
    const unsigned char *start, *at, *end;
    char *error;
    size_t error_size;
    int failed;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    if (!p->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->error, p->error_size, fmt, ap);
        va_end(ap);
    }
    p->failed = 1;
    return -1;
}

static void skip_space(parser *p)
{
    while (p->at < p->end && (*p->at == ' ' || *p->at == '\t' || *p->at == '\n' || *p->at == '\r'))
        p->at++;
}

static int expect(parser *p, char c)
{
    skip_space(p);
    if (p->at >= p->end || *p->at != (unsigned char)c)
        return fail(p, "header: expected '%c' at byte %ld", c, (long)(p->at - p->start));
    p->at++;
    return 0;
}

/* Is the next non-blank byte c? (consumed when it is) */
static int accept(parser *p, char c)
{
    skip_space(p);
    if (p->at < p->end && *p->at == (unsigned char)c) {
        p->at++;
        return 1;
    }
    return 0;
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A JSON string, decoded to UTF-8 in a new buffer (at most max_len bytes). */
static char *parse_string(parser *p, size_t max_len)
{
    if (expect(p, '"')) return NULL;
    size_t cap = 16, n = 0;
    char *s = malloc(cap);
    if (!s) return fail(p, "out of memory"), NULL;
    for (;;) {
        if (p->at >= p->end) {
            fail(p, "header: unterminated string");
            break;
        }
        unsigned c = *p->at++;
        unsigned char utf8[4];
        int len = 1;
        if (c == '"') {
            s[n] = 0;
            return s;
        }
        if (c < 0x20) {
            fail(p, "header: control character in a string");
            break;
        }
        utf8[0] = (unsigned char)c;
        if (c == '\\') {
            if (p->at >= p->end) {
                fail(p, "header: unterminated escape");
                break;
            }
            unsigned e = *p->at++;
            const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
            const char *k = e ? strchr(from, (int)e) : NULL;
            if (k) {
                utf8[0] = (unsigned char)to[k - from];
            } else if (e == 'u') {
                unsigned cp = 0;
                for (int i = 0; i < 4; i++) {
                    int h = p->at < p->end ? hex_digit(*p->at++) : -1;
                    if (h < 0) return free(s), fail(p, "header: bad \\u escape"), NULL;
                    cp = cp * 16 + (unsigned)h;
                }
                if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF)) {
                    fail(p, "header: \\u%04x is not allowed in a name", cp);
                    break;
                }
                if (cp < 0x80) {
                    utf8[0] = (unsigned char)cp;
                } else if (cp < 0x800) {
                    utf8[0] = (unsigned char)(0xC0 | (cp >> 6));
                    utf8[1] = (unsigned char)(0x80 | (cp & 0x3F));
                    len = 2;
                } else {
                    utf8[0] = (unsigned char)(0xE0 | (cp >> 12));
                    utf8[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
                    utf8[2] = (unsigned char)(0x80 | (cp & 0x3F));
                    len = 3;
                }
            } else {
                fail(p, "header: bad escape \\%c", e >= 0x20 && e < 0x7F ? (char)e : '?');
                break;
            }
        }
        if (n + (size_t)len >= max_len) {
            fail(p, "header: a string is longer than %zu bytes", max_len);
            break;
        }
        if (n + (size_t)len + 1 > cap) {
            cap *= 2;
            char *grown = realloc(s, cap);
            if (!grown) {
                fail(p, "out of memory");
                break;
            }
            s = grown;
        }
        memcpy(s + n, utf8, (size_t)len);
        n += (size_t)len;
    }
    free(s);
    return NULL;
}

/* A non-negative integer below 2^53. */
static int parse_count(parser *p, int64_t *v)
{
    skip_space(p);
    if (p->at >= p->end || *p->at < '0' || *p->at > '9') return fail(p, "header: expected a count");
    if (*p->at == '0' && p->at + 1 < p->end && p->at[1] >= '0' && p->at[1] <= '9')
        return fail(p, "header: a number with a leading zero");
    int64_t x = 0;
    while (p->at < p->end && *p->at >= '0' && *p->at <= '9') {
        x = x * 10 + (*p->at++ - '0');
        if (x > (INT64_C(1) << 53)) return fail(p, "header: a number is too large");
    }
    if (p->at < p->end && (*p->at == '.' || *p->at == 'e' || *p->at == 'E'))
        return fail(p, "header: expected a whole number");
    *v = x;
    return 0;
}

/* [a, b, ...] of counts, at most max of them. */
static int parse_counts(parser *p, int64_t *v, int max, int *n)
{
    *n = 0;
    if (expect(p, '[')) return -1;
    if (accept(p, ']')) return 0;
    do {
        if (*n == max) return fail(p, "header: more than %d numbers in a list", max);
        if (parse_count(p, &v[(*n)++])) return -1;
    } while (accept(p, ','));
    return expect(p, ']');
}

typedef struct {
    int64_t begin, end;
} extent;

static int add_meta(parser *p, st_safetensors *s)
{
    if (expect(p, '{')) return -1;
    if (accept(p, '}')) return 0;
    do {
        char *key = parse_string(p, 4096);
        if (!key) return -1;
        char *value = NULL;
        if (expect(p, ':') || !(value = parse_string(p, 1 << 20))) {
            free(key);
            return -1;
        }
        char **k = realloc(s->meta_key, (size_t)(s->n_meta + 1) * sizeof *k);
        if (k) s->meta_key = k;
        char **v = realloc(s->meta_value, (size_t)(s->n_meta + 1) * sizeof *v);
        if (v) s->meta_value = v;
        if (!k || !v) {
            free(key), free(value);
            return fail(p, "out of memory");
        }
        s->meta_key[s->n_meta] = key;
        s->meta_value[s->n_meta++] = value;
    } while (accept(p, ','));
    return expect(p, '}');
}

/* {"dtype": "F32", "shape": [...], "data_offsets": [b, e]} in any order. */
static int parse_entry(parser *p, st_tensor *t, extent *x)
{
    int have_dtype = 0, have_shape = 0, have_offsets = 0;
    if (expect(p, '{')) return -1;
    if (!accept(p, '}')) {
        do {
            char *key = parse_string(p, 64);
            if (!key || expect(p, ':')) return free(key), -1;
            int status = 0;
            if (strcmp(key, "dtype") == 0 && !have_dtype) {
                char *dtype = parse_string(p, 16);
                if (!dtype)
                    status = -1;
                else if (strcmp(dtype, "F32") != 0)
                    status = fail(p, "tensor '%s': dtype %s is not supported (only F32)", t->name,
                                  dtype);
                free(dtype);
                have_dtype = 1;
            } else if (strcmp(key, "shape") == 0 && !have_shape) {
                status = parse_counts(p, t->shape, ST_TENSOR_MAX_DIMS, &t->n_dims);
                have_shape = 1;
            } else if (strcmp(key, "data_offsets") == 0 && !have_offsets) {
                int64_t v[2];
                int n;
                status = parse_counts(p, v, 2, &n);
                if (!status && n != 2)
                    status = fail(p, "tensor '%s': data_offsets needs two numbers", t->name);
                x->begin = v[0], x->end = v[1];
                have_offsets = 1;
            } else {
                status = fail(p, "tensor '%s': unexpected or repeated field '%s'", t->name, key);
            }
            free(key);
            if (status) return -1;
        } while (accept(p, ','));
        if (expect(p, '}')) return -1;
    }
    if (!have_dtype || !have_shape || !have_offsets)
        return fail(p, "tensor '%s': dtype, shape and data_offsets are all needed", t->name);
    int64_t n = 1;
    for (int i = 0; i < t->n_dims; i++) {
        if (t->shape[i] != 0 && n > (INT64_C(1) << 40) / t->shape[i])
            return fail(p, "tensor '%s': the shape is absurdly large", t->name);
        n *= t->shape[i];
    }
    t->n_elems = n;
    if (x->begin > x->end || x->end - x->begin != 4 * n)
        return fail(p, "tensor '%s': data_offsets [%lld, %lld] do not hold %lld float32 values",
                    t->name, (long long)x->begin, (long long)x->end, (long long)n);
    return 0;
}

static int compare_extent(const void *a, const void *b)
{
    const extent *x = a, *y = b;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

void st_safetensors_free(st_safetensors *s)
{
    if (!s) return;
    for (int i = 0; i < s->n_tensors; i++) {
        free(s->tensor[i].name);
        free(s->tensor[i].data);
    }
    for (int i = 0; i < s->n_meta; i++) {
        free(s->meta_key[i]);
        free(s->meta_value[i]);
    }
    free(s->tensor);
    free(s->meta_key);
    free(s->meta_value);
    free(s);
}

int st_safetensors_parse(const unsigned char *bytes, size_t size, st_safetensors **out, char *error,
                         size_t error_size)
{
    *out = NULL;
    parser p = {0};
    p.error = error, p.error_size = error_size;
    if (size < 8) return fail(&p, "too short for a safetensors file (%zu bytes)", size);
    uint64_t header = 0;
    for (int i = 7; i >= 0; i--)
        header = header << 8 | bytes[i];
    if (header < 2 || header > MAX_HEADER || header > size - 8)
        return fail(&p, "header length %llu does not fit the file (%zu bytes)",
                    (unsigned long long)header, size);
    const unsigned char *data = bytes + 8 + header;
    int64_t data_size = (int64_t)(size - 8 - header);
    p.start = p.at = bytes + 8, p.end = data;

    st_safetensors *s = calloc(1, sizeof *s);
    extent *ext = NULL;
    int cap = 0;
    if (!s) return fail(&p, "out of memory");
    if (expect(&p, '{')) goto fail;
    if (!accept(&p, '}')) {
        do {
            char *name = parse_string(&p, 1024);
            if (!name) goto fail;
            if (expect(&p, ':')) {
                free(name);
                goto fail;
            }
            if (strcmp(name, "__metadata__") == 0) {
                free(name);
                if (s->n_meta || add_meta(&p, s)) {
                    fail(&p, "header: __metadata__ is repeated");
                    goto fail;
                }
                continue;
            }
            for (int i = 0; i < s->n_tensors; i++)
                if (strcmp(s->tensor[i].name, name) == 0) {
                    fail(&p, "header: tensor '%s' appears twice", name);
                    free(name);
                    goto fail;
                }
            if (s->n_tensors == cap) {
                if (cap == MAX_TENSORS) {
                    free(name);
                    fail(&p, "header: more than %d tensors", MAX_TENSORS);
                    goto fail;
                }
                cap = cap ? 2 * cap : 16;
                st_tensor *t = realloc(s->tensor, (size_t)cap * sizeof *t);
                if (t) s->tensor = t;
                extent *x = realloc(ext, (size_t)cap * sizeof *x);
                if (x) ext = x;
                if (!t || !x) {
                    free(name);
                    fail(&p, "out of memory");
                    goto fail;
                }
            }
            st_tensor *t = &s->tensor[s->n_tensors];
            memset(t, 0, sizeof *t);
            t->name = name;
            s->n_tensors++;
            if (parse_entry(&p, t, &ext[s->n_tensors - 1])) goto fail;
        } while (accept(&p, ','));
        if (expect(&p, '}')) goto fail;
    }
    skip_space(&p);
    if (p.at != p.end) {
        fail(&p, "header: bytes after the JSON object");
        goto fail;
    }
    /* the tensors tile the data section exactly: no overlap, no gap */
    if (s->n_tensors) {
        extent *sorted = malloc((size_t)s->n_tensors * sizeof *sorted);
        if (!sorted) {
            fail(&p, "out of memory");
            goto fail;
        }
        memcpy(sorted, ext, (size_t)s->n_tensors * sizeof *sorted);
        qsort(sorted, (size_t)s->n_tensors, sizeof *sorted, compare_extent);
        int64_t at = 0;
        for (int i = 0; i < s->n_tensors && !p.failed; i++) {
            if (sorted[i].begin != at)
                fail(&p, "tensor data %s at byte %lld",
                     sorted[i].begin < at ? "overlaps" : "leaves a gap", (long long)at);
            at = sorted[i].end;
        }
        if (!p.failed && at != data_size)
            fail(&p, "the tensors cover %lld of %lld data bytes", (long long)at,
                 (long long)data_size);
        free(sorted);
        if (p.failed) goto fail;
    } else if (data_size != 0) {
        fail(&p, "data bytes but no tensors");
        goto fail;
    }
    for (int i = 0; i < s->n_tensors; i++) {
        st_tensor *t = &s->tensor[i];
        t->data = malloc((size_t)(t->n_elems ? t->n_elems : 1) * sizeof *t->data);
        if (!t->data) {
            fail(&p, "out of memory");
            goto fail;
        }
        const unsigned char *b = data + ext[i].begin;
        for (int64_t k = 0; k < t->n_elems; k++, b += 4) { /* little-endian on every host */
            uint32_t u =
                (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
            memcpy(&t->data[k], &u, 4);
        }
    }
    free(ext);
    *out = s;
    return 0;
fail:
    free(ext);
    st_safetensors_free(s);
    return -1;
}

int st_safetensors_read(const char *path, st_safetensors **out, char *error, size_t error_size)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    unsigned char *bytes = NULL;
    size_t n = 0, cap = 0;
    int status = 0;
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FILE) {
                snprintf(error, error_size, "%s: larger than 1 GB", path);
                status = -1;
                break;
            }
            cap = cap ? 2 * cap : 1 << 16;
            unsigned char *grown = realloc(bytes, cap);
            if (!grown) {
                snprintf(error, error_size, "%s: out of memory", path);
                status = -1;
                break;
            }
            bytes = grown;
        }
        size_t got = fread(bytes + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    if (!status && ferror(f)) {
        snprintf(error, error_size, "%s: read error", path);
        status = -1;
    }
    fclose(f);
    if (!status) {
        char why[256];
        status = st_safetensors_parse(bytes, n, out, why, sizeof why);
        if (status) snprintf(error, error_size, "%s: %s", path, why);
    }
    free(bytes);
    return status;
}

const st_tensor *st_safetensors_find(const st_safetensors *s, const char *name)
{
    for (int i = 0; i < s->n_tensors; i++)
        if (strcmp(s->tensor[i].name, name) == 0) return &s->tensor[i];
    return NULL;
}

const char *st_safetensors_meta(const st_safetensors *s, const char *key)
{
    for (int i = 0; i < s->n_meta; i++)
        if (strcmp(s->meta_key[i], key) == 0) return s->meta_value[i];
    return NULL;
}

const st_tensor *st_safetensors_need(const st_safetensors *s, const char *name, int n_dims,
                                     const int64_t *shape, char *error, size_t size)
{
    const st_tensor *t = st_safetensors_find(s, name);
    if (!t) {
        snprintf(error, size, "model has no tensor '%s'", name);
        return NULL;
    }
    int ok = t->n_dims == n_dims;
    for (int i = 0; ok && i < n_dims; i++)
        ok = shape[i] < 0 || t->shape[i] == shape[i];
    if (!ok) {
        char want[96] = "", got[96] = "";
        for (int i = 0; i < n_dims; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? " x " : "",
                     (long long)(shape[i] < 0 ? 0 : shape[i]));
        for (int i = 0; i < t->n_dims; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? " x " : "",
                     (long long)t->shape[i]);
        snprintf(error, size, "model tensor '%s' is %s, expected %s", name,
                 t->n_dims ? got : "a scalar", want);
        return NULL;
    }
    for (int64_t i = 0; i < t->n_elems; i++)
        if (!isfinite(t->data[i])) {
            snprintf(error, size, "model tensor '%s' holds a value that is not finite", name);
            return NULL;
        }
    return t;
}
