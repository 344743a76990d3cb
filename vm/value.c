/* Values: construction, reference counting, description. */
#include "value.h"

#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *st_type_name(st_type type)
{
    switch (type) {
    case ST_AUDIO:
        return "audio";
    case ST_SPECTRUM:
        return "spectrum";
    case ST_ARRAY:
        return "array";
    case ST_EVENTS:
        return "events";
    case ST_RECORD:
        return "record";
    case ST_ANY:
        return "any";
    default:
        return "none";
    }
}

const char *st_window_name(st_window w)
{
    switch (w) {
    case ST_WINDOW_SQRT_HANN:
        return "sqrt_hann";
    case ST_WINDOW_HAMMING:
        return "hamming";
    default:
        return "hann";
    }
}

static st_value *value_new(st_type type)
{
    st_value *v = calloc(1, sizeof *v);
    if (v) {
        v->type = type;
        v->refs = 1;
    }
    return v;
}

/* Counts change from worker threads too, so they are atomic. */
st_value *st_value_ref(st_value *v)
{
    if (v) __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
    return v;
}

static void value_free(st_value *v)
{
    switch (v->type) {
    case ST_AUDIO:
        if (v->u.audio.channel) st_zfree(v->u.audio.channel[0]);
        free(v->u.audio.channel);
        break;
    case ST_SPECTRUM:
        st_zfree(v->u.spectrum.data);
        break;
    case ST_ARRAY:
        st_zfree(v->u.array.data);
        break;
    case ST_EVENTS:
        free(v->u.events.time_s);
        free(v->u.events.label);
        break;
    case ST_RECORD:
        for (int i = 0; i < v->u.record.n_fields; i++) {
            st_value_unref(v->u.record.field[i]);
            if (v->u.record.name) free(v->u.record.name[i]);
        }
        free(v->u.record.field);
        free(v->u.record.name);
        break;
    default:
        break;
    }
    free(v);
}

void st_value_unref(st_value *v)
{
    if (v && __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) == 0) value_free(v);
}

/* An audio value over block (NULL: a new zeroed one), which it owns on success. */
static st_value *audio_over(int n_channels, int64_t n_frames, double rate_hz, float *block)
{
    if (n_channels < 1 || n_frames < 0 ||
        (uint64_t)n_frames > SIZE_MAX / sizeof(float) / (uint64_t)n_channels)
        return NULL;
    st_value *v = value_new(ST_AUDIO);
    if (!v) return NULL;
    st_audio *a = &v->u.audio;
    a->n_channels = n_channels;
    a->n_frames = n_frames;
    a->rate_hz = rate_hz;
    a->channel = calloc((size_t)n_channels, sizeof *a->channel);
    const int fresh = !block;
    if (fresh)
        block = st_zalloc((size_t)n_channels * (size_t)(n_frames ? n_frames : 1) * sizeof *block);
    if (!a->channel || !block) {
        if (fresh) st_zfree(block);
        value_free(v);
        return NULL;
    }
    for (int c = 0; c < n_channels; c++)
        a->channel[c] = block + (size_t)c * (size_t)n_frames;
    return v;
}

st_value *st_audio_new(int n_channels, int64_t n_frames, double rate_hz)
{
    return audio_over(n_channels, n_frames, rate_hz, NULL);
}

st_value *st_audio_adopt(int n_channels, int64_t n_frames, double rate_hz, float *block)
{
    return block ? audio_over(n_channels, n_frames, rate_hz, block) : NULL;
}

st_value *st_spectrum_new(int n_fft, int hop_samples, int64_t n_frames, int n_channels,
                          st_window window, int center, double rate_hz, int64_t length_samples)
{
    if (n_fft < 1 || n_frames < 0 || n_channels < 1 ||
        (uint64_t)n_frames >
            SIZE_MAX / sizeof(float complex) / (uint64_t)(n_fft / 2 + 1) / (uint64_t)n_channels)
        return NULL;
    st_value *v = value_new(ST_SPECTRUM);
    if (!v) return NULL;
    st_spectrum *s = &v->u.spectrum;
    s->n_fft = n_fft;
    s->hop_samples = hop_samples;
    s->n_bins = n_fft / 2 + 1;
    s->n_frames = n_frames;
    s->n_channels = n_channels;
    s->window = window;
    s->center = center;
    s->rate_hz = rate_hz;
    s->length_samples = length_samples;
    size_t n = (size_t)s->n_bins * (size_t)n_frames * (size_t)n_channels;
    s->data = st_zalloc((n ? n : 1) * sizeof *s->data);
    if (!s->data) {
        value_free(v);
        return NULL;
    }
    return v;
}

st_value *st_spectrum_like(const st_spectrum *s)
{
    return st_spectrum_new(s->n_fft, s->hop_samples, s->n_frames, s->n_channels, s->window,
                           s->center, s->rate_hz, s->length_samples);
}

st_value *st_array_like(const st_array *a)
{
    const char *axes[ST_MAX_AXES];
    for (int i = 0; i < a->n_axes; i++)
        axes[i] = a->axis[i];
    return st_array_new(a->n_axes, a->shape, axes);
}

st_value *st_array_new(int n_axes, const int64_t *shape, const char *const *axis_names)
{
    if (n_axes < 1 || n_axes > ST_MAX_AXES) return NULL;
    st_value *v = value_new(ST_ARRAY);
    if (!v) return NULL;
    st_array *a = &v->u.array;
    a->n_axes = n_axes;
    a->n_elems = 1;
    for (int i = 0; i < n_axes; i++) {
        a->shape[i] = shape[i];
        /* a shape from a file may be anything: no signed overflow */
        if (shape[i] < 0 || __builtin_mul_overflow(a->n_elems, shape[i], &a->n_elems) ||
            (uint64_t)a->n_elems > SIZE_MAX / sizeof *a->data) {
            value_free(v);
            return NULL;
        }
        snprintf(a->axis[i], sizeof a->axis[i], "%s",
                 axis_names && axis_names[i] ? axis_names[i] : "");
    }
    a->data = st_zalloc((size_t)(a->n_elems ? a->n_elems : 1) * sizeof *a->data);
    if (!a->data) {
        value_free(v);
        return NULL;
    }
    return v;
}

st_value *st_events_new(int64_t n_events)
{
    if (n_events < 0 || (uint64_t)n_events > SIZE_MAX / sizeof(double)) return NULL;
    st_value *v = value_new(ST_EVENTS);
    if (!v) return NULL;
    st_events *e = &v->u.events;
    e->n_events = n_events;
    e->time_s = calloc((size_t)(n_events ? n_events : 1), sizeof *e->time_s);
    e->label = calloc((size_t)(n_events ? n_events : 1), sizeof *e->label);
    if (!e->time_s || !e->label) {
        value_free(v);
        return NULL;
    }
    return v;
}

st_value *st_record_new(int n_fields, const char *const *names, st_value *const *fields)
{
    st_value *v = value_new(ST_RECORD);
    if (!v) return NULL;
    st_record *r = &v->u.record;
    r->field = calloc((size_t)(n_fields ? n_fields : 1), sizeof *r->field);
    if (names) r->name = calloc((size_t)(n_fields ? n_fields : 1), sizeof *r->name);
    if (!r->field || (names && !r->name)) {
        value_free(v);
        return NULL;
    }
    for (int i = 0; i < n_fields; i++) {
        r->field[i] = st_value_ref(fields[i]);
        r->n_fields = i + 1;
        if (names && !(r->name[i] = strdup(names[i]))) {
            value_free(v);
            return NULL;
        }
    }
    return v;
}

st_value *st_record_get(const st_value *record, const char *name)
{
    if (!record || record->type != ST_RECORD || !record->u.record.name) return NULL;
    for (int i = 0; i < record->u.record.n_fields; i++)
        if (strcmp(record->u.record.name[i], name) == 0) return record->u.record.field[i];
    return NULL;
}

size_t st_value_bytes(const st_value *v)
{
    size_t n = sizeof *v;
    switch (v->type) {
    case ST_AUDIO:
        n += (size_t)v->u.audio.n_channels * (size_t)v->u.audio.n_frames * sizeof(float);
        break;
    case ST_SPECTRUM:
        n += (size_t)v->u.spectrum.n_bins * (size_t)v->u.spectrum.n_frames *
             (size_t)v->u.spectrum.n_channels * sizeof(float complex);
        break;
    case ST_ARRAY:
        n += (size_t)v->u.array.n_elems * sizeof(float);
        break;
    case ST_EVENTS:
        n += (size_t)v->u.events.n_events * (sizeof(double) + sizeof(int));
        break;
    case ST_RECORD:
        for (int i = 0; i < v->u.record.n_fields; i++)
            n += st_value_bytes(v->u.record.field[i]);
        break;
    default:
        break;
    }
    return n;
}

void st_value_describe(const st_value *v, char *buf, size_t size)
{
    switch (v->type) {
    case ST_AUDIO: {
        const st_audio *a = &v->u.audio;
        snprintf(buf, size, "audio: %d channel%s, %lld frames, %g Hz, %.3f s", a->n_channels,
                 a->n_channels == 1 ? "" : "s", (long long)a->n_frames, a->rate_hz,
                 a->rate_hz > 0 ? (double)a->n_frames / a->rate_hz : 0.0);
        break;
    }
    case ST_SPECTRUM: {
        const st_spectrum *s = &v->u.spectrum;
        snprintf(buf, size,
                 "spectrum: %d bins x %lld frames x %d channel%s, n_fft %d, hop %d, %s, %g Hz, "
                 "%.3f s",
                 s->n_bins, (long long)s->n_frames, s->n_channels, s->n_channels == 1 ? "" : "s",
                 s->n_fft, s->hop_samples, st_window_name(s->window), s->rate_hz,
                 s->rate_hz > 0 ? (double)s->length_samples / s->rate_hz : 0.0);
        break;
    }
    case ST_ARRAY: {
        const st_array *a = &v->u.array;
        size_t used = (size_t)snprintf(buf, size, "array:");
        for (int i = 0; i < a->n_axes && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s %lld %s", i ? " x" : "",
                                     (long long)a->shape[i], a->axis[i][0] ? a->axis[i] : "?");
        break;
    }
    case ST_EVENTS:
        snprintf(buf, size, "events: %lld", (long long)v->u.events.n_events);
        break;
    case ST_RECORD: {
        const st_record *r = &v->u.record;
        size_t used = (size_t)snprintf(buf, size, "record {");
        for (int i = 0; i < r->n_fields && used < size; i++)
            used += (size_t)snprintf(buf + used, size - used, "%s%s: %s", i ? ", " : "",
                                     r->name ? r->name[i] : "", st_type_name(r->field[i]->type));
        if (used < size) snprintf(buf + used, size - used, "}");
        break;
    }
    default:
        snprintf(buf, size, "none");
        break;
    }
}
