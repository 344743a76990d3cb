#include "../../vm/cache.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

void test_values(void)
{
    st_value *a = st_audio_new(2, 10, 8000);
    a->u.audio.channel[1][9] = 0.25f;
    int64_t shape[2] = {3, 4};
    const char *axes[2] = {"freq", "time"};
    st_value *arr = st_array_new(2, shape, axes);
    arr->u.array.data[11] = 7;
    st_value *ev = st_events_new(2);
    ev->u.events.time_s[1] = 1.5;
    ev->u.events.label[1] = 3;
    const char *names[3] = {"audio", "array", "events"};
    st_value *fields[3] = {a, arr, ev};
    st_value *rec = st_record_new(3, names, fields);
    CHECK("record holds references", a->refs == 2 && st_record_get(rec, "array") == arr, "refs %d",
          a->refs);

    FILE *f = tmpfile();
    int wrote = st_value_write(f, rec) == ST_OK;
    rewind(f);
    st_value *back = st_value_read(f);
    fclose(f);
    st_value *ba = back ? st_record_get(back, "audio") : NULL;
    st_value *barr = back ? st_record_get(back, "array") : NULL;
    st_value *bev = back ? st_record_get(back, "events") : NULL;
    CHECK("value file round trip",
          wrote && ba && barr && bev && ba->u.audio.channel[1][9] == 0.25f &&
              ba->u.audio.rate_hz == 8000 && barr->u.array.data[11] == 7 &&
              strcmp(barr->u.array.axis[1], "time") == 0 && bev->u.events.time_s[1] == 1.5 &&
              bev->u.events.label[1] == 3,
          "a record did not survive writing and reading");
    /* every truncation of a valid file is refused, whatever field it cuts */
    f = tmpfile();
    st_value_write(f, rec);
    long size = ftell(f);
    char *bytes = malloc((size_t)size);
    rewind(f);
    int got = bytes && fread(bytes, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    int accepted = 0, refused = 0;
    for (long cut = 0; got && cut < size; cut++) {
        FILE *part = tmpfile();
        fwrite(bytes, 1, (size_t)cut, part);
        rewind(part);
        st_value *v = st_value_read(part);
        fclose(part);
        if (v)
            accepted++;
        else
            refused++;
        st_value_unref(v);
    }
    CHECK("every truncation of a value file is refused", got && accepted == 0 && refused == size,
          "%d of %ld truncations read as values", accepted, size);
    free(bytes);

    st_value_unref(back);
    st_value_unref(rec);
    CHECK("unref of a record keeps fields others hold", a->refs == 1, "refs %d", a->refs);
    st_value_unref(a);
    st_value_unref(arr);
    st_value_unref(ev);

    f = tmpfile();
    fputs("STV1 not really a value", f);
    rewind(f);
    st_value *junk = st_value_read(f);
    fclose(f);
    CHECK("a corrupt value file is refused", junk == NULL, "read something from junk");
    st_value_unref(junk);
}
