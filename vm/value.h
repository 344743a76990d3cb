/* Values: what flows on an edge of a graph.
 *
 * A value is immutable once made and reference counted: st_value_ref adds a
 * reference, st_value_unref drops one and frees the value with the last.
 * Constructors return a value holding one reference, owned by the caller, with
 * its sample memory allocated (zeroed) for the caller to fill before sharing it.
 */
#ifndef ST_VALUE_H
#define ST_VALUE_H

#include <complex.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    ST_NONE = 0,
    ST_AUDIO,    /* planar float32 channels */
    ST_SPECTRUM, /* complex STFT frames */
    ST_ARRAY,    /* real float32 N-d array with named axes */
    ST_EVENTS,   /* times with integer labels */
    ST_RECORD,   /* named (or listed) fields of values */
    ST_ANY,      /* ports only: accepts every type; an output known only once computed */
    ST_SAME      /* outputs only: the type of the first input */
} st_type;

#define ST_MAX_AXES 4

typedef enum { ST_WINDOW_HANN = 0, ST_WINDOW_SQRT_HANN, ST_WINDOW_HAMMING } st_window;

/* The sample rates strata reads and makes: load refuses a file outside them
 * (and resampling to a rate below them), the signal node and `strata render
 * --rate` take only these. Messages say ST_RATE_RANGE ("1 kHz to 768 kHz"). */
#define ST_MIN_RATE_KHZ  1
#define ST_MAX_RATE_KHZ  768
#define ST_MIN_RATE_HZ   (ST_MIN_RATE_KHZ * 1000.0)
#define ST_MAX_RATE_HZ   (ST_MAX_RATE_KHZ * 1000.0)
#define ST_STRINGIFY_(x) #x
#define ST_STRINGIFY(x)  ST_STRINGIFY_(x)
#define ST_RATE_RANGE    ST_STRINGIFY(ST_MIN_RATE_KHZ) " kHz to " ST_STRINGIFY(ST_MAX_RATE_KHZ) " kHz"

typedef struct st_value st_value;

typedef struct {
    int n_channels;
    int64_t n_frames;
    double rate_hz;
    float **channel; /* n_channels pointers into one block */
} st_audio;

/* bins x frames x channels; bin is the fastest axis:
 * bin k of frame t of channel c is data[((size_t)c * n_frames + t) * n_bins + k]. */
typedef struct {
    int n_fft, hop_samples, n_bins;
    int64_t n_frames;
    int n_channels;
    st_window window;
    int center;
    double rate_hz;
    int64_t length_samples; /* length of the signal the frames came from */
    float complex *data;
} st_spectrum;

/* Row-major: the last axis is contiguous. */
typedef struct {
    int n_axes;
    int64_t shape[ST_MAX_AXES];
    char axis[ST_MAX_AXES][16];
    int64_t n_elems;
    float *data;
} st_array;

typedef struct {
    int64_t n_events;
    double *time_s;
    int *label;
} st_events;

/* names may be NULL for an ordered list; fields hold references. */
typedef struct {
    int n_fields;
    char **name;
    st_value **field;
} st_record;

struct st_value {
    st_type type;
    int refs;
    union {
        st_audio audio;
        st_spectrum spectrum;
        st_array array;
        st_events events;
        st_record record;
    } u;
};

const char *st_type_name(st_type type);

st_value *st_value_ref(st_value *v);
void st_value_unref(st_value *v);

/* Constructors return NULL when memory is short. */
st_value *st_audio_new(int n_channels, int64_t n_frames, double rate_hz);
/* An audio value over memory the caller made with st_zalloc (at least
 * n_channels x max(n_frames, 1) floats), not zeroed: the caller writes every
 * sample. The value owns block on success; on NULL the caller still does.
 * For nodes whose scratch is dead when their output is written: the output
 * reuses its pages instead of new ones the kernel must zero. */
st_value *st_audio_adopt(int n_channels, int64_t n_frames, double rate_hz, float *block);
st_value *st_spectrum_new(int n_fft, int hop_samples, int64_t n_frames, int n_channels,
                          st_window window, int center, double rate_hz, int64_t length_samples);
/* A zeroed spectrum with the shape and provenance of s (for masked copies). */
st_value *st_spectrum_like(const st_spectrum *s);
/* A new array of a's shape and axis names, filled with zeros. */
st_value *st_array_like(const st_array *a);
st_value *st_array_new(int n_axes, const int64_t *shape, const char *const *axis_names);
st_value *st_events_new(int64_t n_events);
/* Takes a reference to each field; names may be NULL (a list). */
st_value *st_record_new(int n_fields, const char *const *names, st_value *const *fields);

/* The field called name, or NULL. Borrowed. */
st_value *st_record_get(const st_value *record, const char *name);

/* Approximate bytes held, for the cache's accounting. */
size_t st_value_bytes(const st_value *v);

/* One line describing v (type, shape, rate, duration) into buf. */
void st_value_describe(const st_value *v, char *buf, size_t size);

const char *st_window_name(st_window w);

#endif
