#include "cache.h"

#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the entry format ----
 * Native byte order (an entry from another kind of machine fails the
 * byte-order word and is a miss):
 *    0  char[8]   "STRATA\0C"
 *    8  uint32    format version
 *   12  uint32    0x01020304
 *   16  uint64[2] key (hi, lo)
 *   32  uint64    payload bytes
 *   40  uint64    payload checksum
 *   48  uint64    checksum of bytes 0..47
 *   56  uint64    0
 *   64  the payload: one value, as write_value lays it out.
 * A change of layout bumps FORMAT_VERSION; older entries are then misses. */
#define MAGIC           "STRATA\0C"
#define FORMAT_VERSION  2u
#define BYTE_ORDER_MARK 0x01020304u
#define HEADER_BYTES    64
#define MAX_DEPTH       16
#define MAX_CHANNELS    65536
#define MAX_RATE_HZ     1e7
#define MAX_NAME_BYTES  4096

/* A fast 64-bit checksum over a byte stream cut anywhere: it finds a torn
 * write or a flipped bit, not an attacker (the folder's owner checks do). */
typedef struct {
    uint64_t h, tail, length;
    int n_tail;
} checksum;

static uint64_t mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

static void sum_init(checksum *c) { *c = (checksum){.h = 0x243f6a8885a308d3ULL}; }

static void sum_bytes(checksum *c, const void *data, size_t n)
{
    const unsigned char *p = data;
    c->length += n;
    while (n > 0 && c->n_tail > 0 && c->n_tail < 8) {
        c->tail |= (uint64_t)*p++ << (8 * c->n_tail++);
        n--;
    }
    if (c->n_tail == 8) c->h = mix(c->h, c->tail), c->tail = 0, c->n_tail = 0;
    for (; n >= 8; n -= 8, p += 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c->h = mix(c->h, w);
    }
    while (n > 0) {
        c->tail |= (uint64_t)*p++ << (8 * c->n_tail++);
        n--;
    }
}

static uint64_t sum_final(const checksum *c) { return mix(mix(c->h, c->tail), c->length); }

/* Writing: the same walk sizes and sums the payload (f == NULL), then writes it. */
typedef struct {
    FILE *f;
    checksum sum;
} sink;

static int put(sink *s, const void *p, size_t n)
{
    sum_bytes(&s->sum, p, n);
    return !s->f || fwrite(p, 1, n, s->f) == n ? ST_OK : ST_ERR;
}

#define PUT(x) put(s, &(x), sizeof(x))

static int write_value(sink *s, const st_value *v)
{
    int32_t type = v->type;
    if (PUT(type)) return ST_ERR;
    switch (v->type) {
    case ST_AUDIO: {
        const st_audio *a = &v->u.audio;
        int32_t n_channels = a->n_channels;
        if (PUT(n_channels) || PUT(a->n_frames) || PUT(a->rate_hz)) return ST_ERR;
        for (int c = 0; c < a->n_channels; c++)
            if (put(s, a->channel[c], (size_t)a->n_frames * sizeof(float))) return ST_ERR;
        return ST_OK;
    }
    case ST_SPECTRUM: {
        const st_spectrum *sp = &v->u.spectrum;
        int32_t h[5] = {sp->n_fft, sp->hop_samples, sp->n_channels, (int32_t)sp->window,
                        sp->center};
        if (PUT(h) || PUT(sp->n_frames) || PUT(sp->rate_hz) || PUT(sp->length_samples))
            return ST_ERR;
        return put(s, sp->data,
                   (size_t)sp->n_bins * (size_t)sp->n_frames * (size_t)sp->n_channels *
                       sizeof *sp->data);
    }
    case ST_ARRAY: {
        const st_array *a = &v->u.array;
        int32_t n_axes = a->n_axes;
        if (PUT(n_axes) || PUT(a->shape) || PUT(a->axis)) return ST_ERR;
        return put(s, a->data, (size_t)a->n_elems * sizeof(float));
    }
    case ST_EVENTS: {
        const st_events *e = &v->u.events;
        if (PUT(e->n_events)) return ST_ERR;
        if (put(s, e->time_s, (size_t)e->n_events * sizeof(double))) return ST_ERR;
        for (int64_t i = 0; i < e->n_events; i++) {
            int32_t label = e->label[i];
            if (PUT(label)) return ST_ERR;
        }
        return ST_OK;
    }
    case ST_RECORD: {
        const st_record *r = &v->u.record;
        int32_t n = r->n_fields, named = r->name != NULL;
        if (PUT(n) || PUT(named)) return ST_ERR;
        for (int i = 0; i < r->n_fields; i++) {
            if (named) {
                int32_t len = (int32_t)strlen(r->name[i]);
                if (PUT(len) || put(s, r->name[i], (size_t)len)) return ST_ERR;
            }
            if (write_value(s, r->field[i])) return ST_ERR;
        }
        return ST_OK;
    }
    default:
        return ST_ERR;
    }
}

static void put_u32(unsigned char *p, uint32_t x) { memcpy(p, &x, 4); }
static void put_u64(unsigned char *p, uint64_t x) { memcpy(p, &x, 8); }
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return x;
}

static uint64_t header_sum(const unsigned char *h)
{
    checksum c;
    sum_init(&c);
    sum_bytes(&c, h, 48);
    return sum_final(&c);
}

int st_value_write_entry(FILE *f, st_key key, const st_value *v)
{
    sink size = {NULL, {0}};
    sum_init(&size.sum);
    if (write_value(&size, v)) return ST_ERR;
    unsigned char h[HEADER_BYTES] = {0};
    memcpy(h, MAGIC, 8);
    put_u32(h + 8, FORMAT_VERSION);
    put_u32(h + 12, BYTE_ORDER_MARK);
    put_u64(h + 16, key.hi);
    put_u64(h + 24, key.lo);
    put_u64(h + 32, size.sum.length);
    put_u64(h + 40, sum_final(&size.sum));
    put_u64(h + 48, header_sum(h));
    if (fwrite(h, 1, sizeof h, f) != sizeof h) return ST_ERR;
    sink out = {f, {0}};
    sum_init(&out.sum);
    return write_value(&out, v);
}

int st_value_write(FILE *f, const st_value *v)
{
    return st_value_write_entry(f, (st_key){0, 0}, v);
}

/* Reading: every byte is counted against the payload size the file really
 * holds, so no field can ask for more memory than the file could fill. */
typedef struct {
    FILE *f;
    uint64_t left;
    checksum sum;
    char *why;
    size_t why_size;
} source;

static int damaged(source *s, const char *what)
{
    if (!s->why[0]) snprintf(s->why, s->why_size, "%s", what);
    return ST_ERR;
}

static int get(source *s, void *p, size_t n)
{
    if (n > s->left) return damaged(s, "it is shorter than its fields say");
    if (fread(p, 1, n, s->f) != n) return damaged(s, "it is truncated");
    sum_bytes(&s->sum, p, n);
    s->left -= n;
    return ST_OK;
}

#define GET(x) get(s, &(x), sizeof(x))

/* Whether count items of item_bytes each fit in what is left. */
static int fits(const source *s, int64_t count, uint64_t item_bytes)
{
    return count >= 0 && (uint64_t)count <= s->left / item_bytes;
}

static int sane_rate(double rate) { return isfinite(rate) && rate > 0 && rate <= MAX_RATE_HZ; }

static st_value *read_value(source *s, int depth);

static st_value *read_audio(source *s)
{
    int32_t n_channels;
    int64_t n_frames;
    double rate;
    if (GET(n_channels) || GET(n_frames) || GET(rate)) return NULL;
    if (n_channels < 1 || n_channels > MAX_CHANNELS || !sane_rate(rate) ||
        !fits(s, n_frames, (uint64_t)n_channels * sizeof(float)))
        return damaged(s, "an audio header is out of bounds"), NULL;
    st_value *v = st_audio_new(n_channels, n_frames, rate);
    if (!v) return damaged(s, "out of memory"), NULL;
    for (int c = 0; c < n_channels; c++)
        if (get(s, v->u.audio.channel[c], (size_t)n_frames * sizeof(float))) {
            st_value_unref(v);
            return NULL;
        }
    return v;
}

static st_value *read_spectrum(source *s)
{
    int32_t h[5];
    int64_t n_frames, length;
    double rate;
    if (GET(h) || GET(n_frames) || GET(rate) || GET(length)) return NULL;
    int n_fft = h[0], hop = h[1], n_channels = h[2], window = h[3], center = h[4];
    if (n_fft < 2 || n_fft > (1 << 20) || hop < 1 || hop > (1 << 20) || n_channels < 1 ||
        n_channels > MAX_CHANNELS || window < ST_WINDOW_HANN || window > ST_WINDOW_HAMMING ||
        (center != 0 && center != 1) || !sane_rate(rate) || length < 0 ||
        length > ((int64_t)1 << 40) ||
        !fits(s, n_frames,
              (uint64_t)(n_fft / 2 + 1) * (uint64_t)n_channels * sizeof(float complex)))
        return damaged(s, "a spectrum header is out of bounds"), NULL;
    st_value *v =
        st_spectrum_new(n_fft, hop, n_frames, n_channels, (st_window)window, center, rate, length);
    if (!v) return damaged(s, "out of memory"), NULL;
    const st_spectrum *sp = &v->u.spectrum;
    if (get(s, sp->data,
            (size_t)sp->n_bins * (size_t)n_frames * (size_t)n_channels * sizeof *sp->data)) {
        st_value_unref(v);
        return NULL;
    }
    return v;
}

static st_value *read_array(source *s)
{
    int32_t n_axes;
    int64_t shape[ST_MAX_AXES];
    char axis[ST_MAX_AXES][16];
    if (GET(n_axes) || GET(shape) || GET(axis)) return NULL;
    if (n_axes < 1 || n_axes > ST_MAX_AXES) return damaged(s, "an array has no axes"), NULL;
    const char *names[ST_MAX_AXES];
    uint64_t room = s->left / sizeof(float), n_elems = 1;
    for (int i = 0; i < ST_MAX_AXES; i++) {
        if (!memchr(axis[i], 0, sizeof axis[i]))
            return damaged(s, "an axis name is not terminated"), NULL;
        names[i] = axis[i];
        if (i >= n_axes) continue;
        if (shape[i] < 0) return damaged(s, "an array shape is out of bounds"), NULL;
        if (shape[i] > 0 && n_elems > room / (uint64_t)shape[i])
            return damaged(s, "an array shape is out of bounds"), NULL;
        n_elems *= (uint64_t)shape[i];
    }
    st_value *v = st_array_new(n_axes, shape, names);
    if (!v) return damaged(s, "out of memory"), NULL;
    if (get(s, v->u.array.data, (size_t)n_elems * sizeof(float))) {
        st_value_unref(v);
        return NULL;
    }
    return v;
}

static st_value *read_events(source *s)
{
    int64_t n;
    if (GET(n)) return NULL;
    if (!fits(s, n, sizeof(double) + sizeof(int32_t)))
        return damaged(s, "an event count is out of bounds"), NULL;
    st_value *v = st_events_new(n);
    if (!v) return damaged(s, "out of memory"), NULL;
    st_events *e = &v->u.events;
    int ok = get(s, e->time_s, (size_t)n * sizeof(double)) == ST_OK;
    for (int64_t i = 0; ok && i < n; i++) {
        int32_t label;
        ok = GET(label) == ST_OK && isfinite(e->time_s[i]);
        e->label[i] = label;
    }
    if (!ok) {
        damaged(s, "an event time is not finite");
        st_value_unref(v);
        return NULL;
    }
    return v;
}

static st_value *read_record(source *s, int depth)
{
    int32_t n, named;
    if (GET(n) || GET(named)) return NULL;
    /* each field takes at least its type word */
    if (!fits(s, n, sizeof(int32_t)) || (named != 0 && named != 1))
        return damaged(s, "a record header is out of bounds"), NULL;
    st_value **fields = calloc((size_t)n + 1, sizeof *fields);
    char **names = calloc((size_t)n + 1, sizeof *names);
    int ok = fields && names;
    if (!ok) damaged(s, "out of memory");
    for (int i = 0; ok && i < n; i++) {
        if (named) {
            int32_t len;
            ok = GET(len) == ST_OK;
            if (ok && (len < 0 || len > MAX_NAME_BYTES || !fits(s, len, 1)))
                ok = damaged(s, "a field name is out of bounds") == ST_OK;
            if (ok && !(names[i] = calloc((size_t)len + 1, 1)))
                ok = damaged(s, "out of memory") == ST_OK;
            ok = ok && get(s, names[i], (size_t)len) == ST_OK;
            if (ok && strlen(names[i]) != (size_t)len)
                ok = damaged(s, "a field name holds a zero byte") == ST_OK;
        }
        ok = ok && (fields[i] = read_value(s, depth + 1));
    }
    st_value *v = NULL;
    if (ok && !(v = st_record_new(n, named ? (const char *const *)names : NULL, fields)))
        damaged(s, "out of memory");
    for (int i = 0; fields && names && i < n; i++) {
        st_value_unref(fields[i]);
        free(names[i]);
    }
    free(fields);
    free(names);
    return v;
}

static st_value *read_value(source *s, int depth)
{
    int32_t type;
    if (depth > MAX_DEPTH) return damaged(s, "records nest too deep"), NULL;
    if (GET(type)) return NULL;
    switch (type) {
    case ST_AUDIO:
        return read_audio(s);
    case ST_SPECTRUM:
        return read_spectrum(s);
    case ST_ARRAY:
        return read_array(s);
    case ST_EVENTS:
        return read_events(s);
    case ST_RECORD:
        return read_record(s, depth);
    default:
        return damaged(s, "a value has an unknown type"), NULL;
    }
}

st_value *st_value_read_entry(FILE *f, st_key *key, char *why, size_t why_size)
{
    unsigned char h[HEADER_BYTES];
    struct stat st;
    char scratch[8];
    if (!why || why_size == 0) why = scratch, why_size = sizeof scratch;
    why[0] = 0;
    long at = ftell(f);
    if (fileno(f) < 0 || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || at < 0) {
        snprintf(why, why_size, "it is not a regular file");
        return NULL;
    }
    if (fread(h, 1, sizeof h, f) != sizeof h) {
        snprintf(why, why_size, "it is shorter than a header");
        return NULL;
    }
    if (memcmp(h, MAGIC, 8) != 0 || get_u32(h + 12) != BYTE_ORDER_MARK) {
        snprintf(why, why_size, "it is not a strata cache entry");
        return NULL;
    }
    if (get_u32(h + 8) != FORMAT_VERSION) {
        snprintf(why, why_size, "it has format version %u, not %u", get_u32(h + 8), FORMAT_VERSION);
        return NULL;
    }
    if (get_u64(h + 48) != header_sum(h)) {
        snprintf(why, why_size, "its header checksum does not match");
        return NULL;
    }
    uint64_t payload = get_u64(h + 32), expected = get_u64(h + 40);
    if ((uint64_t)st.st_size < (uint64_t)at + HEADER_BYTES ||
        payload != (uint64_t)st.st_size - (uint64_t)at - HEADER_BYTES) {
        snprintf(why, why_size, "it holds %lld payload bytes, not the %llu its header says",
                 (long long)st.st_size - at - HEADER_BYTES, (unsigned long long)payload);
        return NULL;
    }
    if (key) *key = (st_key){get_u64(h + 16), get_u64(h + 24)};
    source s = {f, payload, {0}, why, why_size};
    sum_init(&s.sum);
    st_value *v = read_value(&s, 0);
    if (v && s.left != 0) damaged(&s, "it holds bytes after its value");
    if (v && !why[0] && sum_final(&s.sum) != expected) damaged(&s, "its checksum does not match");
    if (why[0]) {
        st_value_unref(v);
        return NULL;
    }
    return v;
}

st_value *st_value_read(FILE *f) { return st_value_read_entry(f, NULL, NULL, 0); }

/* ---- the folder ---- */

static char cache_dir[4096];
static st_cache_stats stats;
/* What this process learnt of the folder: unknown, usable, refused. */
static enum { FOLDER_UNKNOWN, FOLDER_OK, FOLDER_REFUSED } folder_state;

st_cache_stats st_cache_get_stats(void) { return stats; }

void st_cache_reset(void)
{
    folder_state = FOLDER_UNKNOWN;
    stats = (st_cache_stats){0};
}

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

/* Makes the folders of path that are missing, each 0700. */
static int make_dirs(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0700) != 0 && errno != EEXIST) return ST_ERR;
            *p = '/';
        }
    return mkdir(buf, 0700) == 0 || errno == EEXIST ? ST_OK : ST_ERR;
}

static void refuse_folder(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void refuse_folder(const char *fmt, ...)
{
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    fprintf(stderr,
            "strata: warning: not using the cache folder '%s': %s; running without the cache\n",
            cache_dir, reason);
    folder_state = FOLDER_REFUSED;
    stats.folder_refused = 1;
}

/* Whether the folder may be used: it must be ours and writable by nobody
 * else, or another user could plant results. create makes it when missing
 * (a load never does, so --no-cache and read-only runs leave no trace). */
static int folder_ready(int create)
{
    if (!st_cache_dir() || folder_state == FOLDER_REFUSED) return 0;
    if (folder_state == FOLDER_OK) return 1;
    struct stat st;
    if (stat(cache_dir, &st) != 0) {
        if (!create) return 0;
        if (make_dirs(cache_dir) != ST_OK || stat(cache_dir, &st) != 0) {
            if (!stats.write_failed)
                fprintf(stderr,
                        "strata: warning: cannot make the cache folder '%s' (%s); results are "
                        "computed but not kept\n",
                        cache_dir, strerror(errno));
            stats.write_failed = 1;
            return 0;
        }
    }
    if (!S_ISDIR(st.st_mode))
        refuse_folder("it is not a folder");
    else if (st.st_uid != geteuid())
        refuse_folder("it belongs to another user (uid %u)", (unsigned)st.st_uid);
    else if (st.st_mode & 022)
        refuse_folder("others may write to it (mode %04o)", (unsigned)(st.st_mode & 07777));
    else
        folder_state = FOLDER_OK;
    return folder_state == FOLDER_OK;
}

static void key_path(st_key key, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%016llx%016llx.stv", cache_dir, (unsigned long long)key.hi,
             (unsigned long long)key.lo);
}

st_value *st_cache_load(st_key key)
{
    char path[4608], why[256] = "";
    if (!folder_ready(0)) return NULL;
    key_path(key, path, sizeof path);
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    FILE *f = NULL;
    st_value *v = NULL;
    st_key stored = {0, 0};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
        close(fd); /* not ours: never read, never removed; a store replaces it */
        return NULL;
    }
    if (!(f = fdopen(fd, "rb"))) {
        close(fd);
        return NULL;
    }
    v = st_value_read_entry(f, &stored, why, sizeof why);
    fclose(f);
    if (v && (stored.hi != key.hi || stored.lo != key.lo)) {
        snprintf(why, sizeof why, "it holds the result of another key");
        st_value_unref(v);
        v = NULL;
    }
    if (!v) {
        stats.damaged++;
        fprintf(stderr,
                "strata: warning: the cached result %s is damaged (%s); computing it again\n", path,
                why[0] ? why : "unreadable");
        unlink(path);
        return NULL;
    }
    utimensat(AT_FDCWD, path, NULL, 0); /* recently used */
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

/* Removes the oldest entries past the cap, and temporary files a killed
 * process left more than an hour ago. */
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
    time_t now = time(NULL);
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        struct stat st;
        int is_tmp = strstr(de->d_name, ".stv.tmp-") != NULL;
        if (!is_tmp &&
            (len < 5 || len >= sizeof list->name || strcmp(de->d_name + len - 4, ".stv") != 0))
            continue;
        snprintf(path, sizeof path, "%s/%s", cache_dir, de->d_name);
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (is_tmp) {
            if (now - st.st_mtime > 3600) unlink(path);
            continue;
        }
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
    if (list) qsort(list, n, sizeof *list, by_age);
    for (size_t i = 0; i < n && total > cap_bytes; i++) {
        snprintf(path, sizeof path, "%s/%s", cache_dir, list[i].name);
        if (unlink(path) == 0) total -= (double)list[i].size;
    }
    free(list);
}

static void write_failed(const char *why)
{
    if (!stats.write_failed)
        fprintf(stderr,
                "strata: warning: cannot write to the cache folder '%s' (%s); results are "
                "computed but not kept\n",
                cache_dir, why);
    stats.write_failed = 1;
}

int st_cache_store(st_key key, const st_value *v)
{
    char path[4608], tmp[4700];
    if (!folder_ready(1)) return ST_ERR;
    key_path(key, path, sizeof path);
    int fd = st_file_temp_beside(path, tmp, sizeof tmp); /* 0600, never through a symlink */
    if (fd < 0) {
        write_failed(strerror(errno));
        return ST_ERR;
    }
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        close(fd);
        unlink(tmp);
        write_failed(strerror(errno));
        return ST_ERR;
    }
    int ok = st_value_write_entry(f, key, v) == ST_OK;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        write_failed(ok ? strerror(errno) : "a write failed; is the disk full?");
        unlink(tmp);
        return ST_ERR;
    }
    evict();
    return ST_OK;
}
