#include "cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAGIC "STV1"

static int put(FILE *f, const void *p, size_t n)
{
    return fwrite(p, 1, n, f) == n ? ST_OK : ST_ERR;
}
static int get(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? ST_OK : ST_ERR; }

#define PUT(x) put(f, &(x), sizeof(x))
#define GET(x) get(f, &(x), sizeof(x))

static int write_value(FILE *f, const st_value *v)
{
    int32_t type = v->type;
    if (PUT(type)) return ST_ERR;
    switch (v->type) {
    case ST_AUDIO: {
        const st_audio *a = &v->u.audio;
        int32_t n_channels = a->n_channels;
        if (PUT(n_channels) || PUT(a->n_frames) || PUT(a->rate_hz)) return ST_ERR;
        for (int c = 0; c < a->n_channels; c++)
            if (put(f, a->channel[c], (size_t)a->n_frames * sizeof(float))) return ST_ERR;
        return ST_OK;
    }
    case ST_SPECTRUM: {
        const st_spectrum *s = &v->u.spectrum;
        int32_t h[5] = {s->n_fft, s->hop_samples, s->n_channels, (int32_t)s->window, s->center};
        if (PUT(h) || PUT(s->n_frames) || PUT(s->rate_hz) || PUT(s->length_samples)) return ST_ERR;
        return put(f, s->data,
                   (size_t)s->n_bins * (size_t)s->n_frames * (size_t)s->n_channels *
                       sizeof *s->data);
    }
    case ST_ARRAY: {
        const st_array *a = &v->u.array;
        int32_t n_axes = a->n_axes;
        if (PUT(n_axes) || PUT(a->shape) || PUT(a->axis)) return ST_ERR;
        return put(f, a->data, (size_t)a->n_elems * sizeof(float));
    }
    case ST_EVENTS: {
        const st_events *e = &v->u.events;
        if (PUT(e->n_events)) return ST_ERR;
        if (put(f, e->time_s, (size_t)e->n_events * sizeof(double))) return ST_ERR;
        return put(f, e->label, (size_t)e->n_events * sizeof(int));
    }
    case ST_RECORD: {
        const st_record *r = &v->u.record;
        int32_t n = r->n_fields, named = r->name != NULL;
        if (PUT(n) || PUT(named)) return ST_ERR;
        for (int i = 0; i < r->n_fields; i++) {
            if (named) {
                int32_t len = (int32_t)strlen(r->name[i]);
                if (PUT(len) || put(f, r->name[i], (size_t)len)) return ST_ERR;
            }
            if (write_value(f, r->field[i])) return ST_ERR;
        }
        return ST_OK;
    }
    default:
        return ST_ERR;
    }
}

/* Sizes read from a file are checked before they size an allocation. */
#define SANE(n, limit) ((n) >= 0 && (n) <= (limit))

static st_value *read_value(FILE *f, int depth)
{
    int32_t type;
    if (depth > 16 || GET(type)) return NULL;
    st_value *v = NULL;
    switch (type) {
    case ST_AUDIO: {
        int32_t n_channels;
        int64_t n_frames;
        double rate;
        if (GET(n_channels) || GET(n_frames) || GET(rate)) return NULL;
        if (!SANE(n_channels, 4096) || !SANE(n_frames, (int64_t)1 << 36)) return NULL;
        if (!(v = st_audio_new(n_channels, n_frames, rate))) return NULL;
        for (int c = 0; c < n_channels; c++)
            if (get(f, v->u.audio.channel[c], (size_t)n_frames * sizeof(float))) goto fail;
        return v;
    }
    case ST_SPECTRUM: {
        int32_t h[5];
        int64_t n_frames, length;
        double rate;
        if (GET(h) || GET(n_frames) || GET(rate) || GET(length)) return NULL;
        if (!SANE(h[0], 1 << 20) || !SANE(h[2], 4096) || !SANE(n_frames, (int64_t)1 << 32))
            return NULL;
        v = st_spectrum_new(h[0], h[1], n_frames, h[2], (st_window)h[3], h[4], rate, length);
        if (!v) return NULL;
        const st_spectrum *s = &v->u.spectrum;
        if (get(f, s->data,
                (size_t)s->n_bins * (size_t)n_frames * (size_t)s->n_channels * sizeof *s->data))
            goto fail;
        return v;
    }
    case ST_ARRAY: {
        int32_t n_axes;
        int64_t shape[ST_MAX_AXES];
        char axis[ST_MAX_AXES][16];
        if (GET(n_axes) || GET(shape) || GET(axis) || !SANE(n_axes, ST_MAX_AXES)) return NULL;
        const char *names[ST_MAX_AXES];
        for (int i = 0; i < ST_MAX_AXES; i++) {
            axis[i][15] = 0;
            names[i] = axis[i];
            if (i < n_axes && !SANE(shape[i], (int64_t)1 << 34)) return NULL;
        }
        if (!(v = st_array_new(n_axes, shape, names))) return NULL;
        if (get(f, v->u.array.data, (size_t)v->u.array.n_elems * sizeof(float))) goto fail;
        return v;
    }
    case ST_EVENTS: {
        int64_t n;
        if (GET(n) || !SANE(n, (int64_t)1 << 30) || !(v = st_events_new(n))) return NULL;
        if (get(f, v->u.events.time_s, (size_t)n * sizeof(double)) ||
            get(f, v->u.events.label, (size_t)n * sizeof(int)))
            goto fail;
        return v;
    }
    case ST_RECORD: {
        int32_t n, named;
        if (GET(n) || GET(named) || !SANE(n, 1 << 16)) return NULL;
        st_value **fields = calloc((size_t)n + 1, sizeof *fields);
        char **names = calloc((size_t)n + 1, sizeof *names);
        int ok = fields && names;
        for (int i = 0; ok && i < n; i++) {
            if (named) {
                int32_t len;
                ok = !GET(len) && SANE(len, 4096) && (names[i] = calloc((size_t)len + 1, 1)) &&
                     !get(f, names[i], (size_t)len);
            }
            ok = ok && (fields[i] = read_value(f, depth + 1));
        }
        if (ok) v = st_record_new(n, named ? (const char *const *)names : NULL, fields);
        for (int i = 0; fields && names && i < n; i++) {
            st_value_unref(fields[i]);
            free(names[i]);
        }
        free(fields);
        free(names);
        return v;
    }
    default:
        return NULL;
    }
fail:
    st_value_unref(v);
    return NULL;
}

int st_value_write(FILE *f, const st_value *v)
{
    if (put(f, MAGIC, 4)) return ST_ERR;
    return write_value(f, v);
}

st_value *st_value_read(FILE *f)
{
    char magic[4];
    if (get(f, magic, 4) || memcmp(magic, MAGIC, 4) != 0) return NULL;
    return read_value(f, 0);
}

/* ---- the folder ---- */

static char cache_dir[4096];

const char *st_cache_dir(void)
{
    const char *dir = getenv("STRATA_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"),
               *home = getenv("HOME");
    if (dir && *dir)
        snprintf(cache_dir, sizeof cache_dir, "%s", dir);
    else if (xdg && *xdg)
        snprintf(cache_dir, sizeof cache_dir, "%s/strata", xdg);
    else if (home && *home)
        snprintf(cache_dir, sizeof cache_dir, "%s/.cache/strata", home);
    else
        return NULL;
    return cache_dir;
}

static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0755) != 0 && errno != EEXIST) return ST_ERR;
            *p = '/';
        }
    return mkdir(buf, 0755) == 0 || errno == EEXIST ? ST_OK : ST_ERR;
}

static void key_path(st_key key, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%016llx%016llx.stv", cache_dir, (unsigned long long)key.hi,
             (unsigned long long)key.lo);
}

st_value *st_cache_load(st_key key)
{
    char path[4608];
    if (!st_cache_dir()) return NULL;
    key_path(key, path, sizeof path);
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    st_key stored;
    st_value *v = NULL;
    if (fread(&stored, sizeof stored, 1, f) == 1 && stored.hi == key.hi && stored.lo == key.lo)
        v = st_value_read(f);
    fclose(f);
    if (v) utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
    return v;
}

typedef struct {
    char name[64];
    time_t mtime;
    off_t size;
} entry;

static int by_age(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static void evict(void)
{
    const char *cap_env = getenv("STRATA_CACHE_MAX_MB");
    double cap_bytes = (cap_env ? atof(cap_env) : 4096.0) * 1048576.0;
    DIR *d = opendir(cache_dir);
    if (!d) return;
    entry *list = NULL;
    size_t n = 0, cap = 0;
    double total = 0;
    struct dirent *de;
    char path[4608];
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        struct stat st;
        if (len < 5 || len >= sizeof list->name || strcmp(de->d_name + len - 4, ".stv") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", cache_dir, de->d_name);
        if (stat(path, &st) != 0) continue;
        if (n == cap) {
            entry *grown = realloc(list, (cap = cap ? 2 * cap : 64) * sizeof *list);
            if (!grown) break;
            list = grown;
        }
        memcpy(list[n].name, de->d_name, len + 1); /* len < sizeof name, checked above */
        list[n].mtime = st.st_mtime;
        list[n].size = st.st_size;
        total += (double)st.st_size;
        n++;
    }
    closedir(d);
    qsort(list, n, sizeof *list, by_age);
    for (size_t i = 0; i < n && total > cap_bytes; i++) {
        snprintf(path, sizeof path, "%s/%s", cache_dir, list[i].name);
        if (unlink(path) == 0) total -= (double)list[i].size;
    }
    free(list);
}

int st_cache_make_dir(void)
{
    return st_cache_dir() && make_dirs(cache_dir) == ST_OK ? ST_OK : ST_ERR;
}

int st_cache_store(st_key key, const st_value *v)
{
    char path[4608], tmp[4700];
    if (st_cache_make_dir()) return ST_ERR;
    key_path(key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld.%lx.tmp", path, (long)getpid(),
             (unsigned long)random() ^ (unsigned long)time(NULL));
    FILE *f = fopen(tmp, "wb");
    if (!f) return ST_ERR;
    int ok = fwrite(&key, sizeof key, 1, f) == 1 && st_value_write(f, v) == ST_OK;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ST_ERR;
    }
    evict();
    return ST_OK;
}
