/* The result-cache reader: any bytes are a value or a refusal, never a
 * crash, a leak or a huge allocation; a value read back writes and reads
 * again to the same bytes. */
#include "../../vm/cache.h"
#include "common.h"

#include <complex.h>
#include <string.h>

/* FUZZ_WRITE_SEEDS=DIR: writes one small entry of each value type into DIR
 * (the committed seeds, tests/fuzz/seeds/fuzz_cache) and exits. */
static void write_seed(const char *dir, const char *name, st_value *v)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || st_value_write_entry(f, (st_key){1, 2}, v) != ST_OK) abort();
    fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_WRITE_SEEDS");
    if (!dir) return 0;
    st_value *a = st_audio_new(2, 3, 44100);
    a->u.audio.channel[1][2] = 0.5f;
    st_value *s = st_spectrum_new(16, 4, 2, 1, ST_WINDOW_HANN, 1, 8000, 8);
    s->u.spectrum.data[3] = 1.0f + 2.0f * I;
    int64_t shape[3] = {2, 1, 2};
    const char *axes[3] = {"freq", "time", "bar"};
    st_value *arr = st_array_new(3, shape, axes);
    arr->u.array.data[3] = -1;
    st_value *e = st_events_new(2);
    e->u.events.time_s[1] = 0.5;
    e->u.events.label[1] = 1;
    const char *names[2] = {"audio", "events"};
    st_value *fields[2] = {a, e};
    st_value *r = st_record_new(2, names, fields);
    st_value *list = st_record_new(2, NULL, (st_value *[]){arr, r});
    write_seed(dir, "audio", a);
    write_seed(dir, "spectrum", s);
    write_seed(dir, "array", arr);
    write_seed(dir, "events", e);
    write_seed(dir, "record", r);
    write_seed(dir, "list", list);
    st_value *values[] = {a, s, arr, e, r, list};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++)
        st_value_unref(values[i]);
    exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = tmpfile();
    if (!f) return 0;
    if (size) fwrite(data, 1, size, f);
    rewind(f);
    st_key key;
    char why[256];
    st_value *v = st_value_read_entry(f, &key, why, sizeof why);
    fclose(f);
    if (!v) return 0;
    FILE *g = tmpfile();
    if (st_value_write_entry(g, key, v) != ST_OK) abort();
    long n = ftell(g);
    rewind(g);
    st_value *back = st_value_read_entry(g, &key, why, sizeof why);
    if (!back) abort(); /* what we wrote we must read */
    char *a = malloc((size_t)n), *b = malloc((size_t)n);
    rewind(g);
    if (fread(a, 1, (size_t)n, g) != (size_t)n) abort();
    FILE *h = tmpfile();
    st_value_write_entry(h, key, back);
    rewind(h);
    if ((long)fread(b, 1, (size_t)n, h) != n || memcmp(a, b, (size_t)n) != 0) abort();
    free(a), free(b);
    fclose(g), fclose(h);
    st_value_unref(v);
    st_value_unref(back);
    return 0;
}
