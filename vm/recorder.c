#include "recorder.h"

#include "node.h"
#include "outputs.h"

#include <errno.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_FRAMES (1 << 18) /* about 5 s at 48 kHz: the writer's slack */

/* Owns the ring and the file. write_pos is the audio thread's, read_pos the
 * writer's; each only reads the other's. Positions count frames for ever;
 * the ring index is the position modulo RING_FRAMES. The file is written as
 * every strata output is (vm/outputs.h): a temporary file with a unique name
 * beside the target, never through a symlink, renamed into place at close. */
struct st_recorder {
    SNDFILE *file;
    st_output out; /* out.path points into path */
    char path[4096];
    int n_channels;
    float *ring; /* interleaved */
    float *chunk;
    atomic_size_t write_pos, read_pos;
    atomic_long dropped;
    int write_failed; /* a short write: the recording is incomplete */
};

st_recorder *st_recorder_open(const char *path, int n_channels, double rate_hz, char *error,
                              size_t error_size)
{
    size_t len = strlen(path);
    if (len < 5 || strcmp(path + len - 4, ".wav") != 0 || len >= 4096) {
        snprintf(error, error_size, "--record wants a .wav file, not '%s'", path);
        return NULL;
    }
    st_recorder *r = calloc(1, sizeof *r);
    if (!r || !(r->ring = calloc((size_t)RING_FRAMES * (size_t)n_channels, sizeof *r->ring)) ||
        !(r->chunk = calloc((size_t)RING_FRAMES * (size_t)n_channels, sizeof *r->chunk))) {
        if (r) free(r->ring);
        free(r);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    SF_INFO info = {.samplerate = (int)rate_hz,
                    .channels = n_channels,
                    .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    int opened = st_output_open(&r->out, r->path, error, error_size) == ST_OK;
    if (!opened || !(r->file = sf_open_fd(r->out.fd, SFM_WRITE, &info, SF_FALSE))) {
        if (opened) {
            snprintf(error, error_size, "cannot write '%s': %s", r->path, sf_strerror(NULL));
            char ignored[64];
            st_output_close(&r->out, ST_ERR, ignored, sizeof ignored);
        }
        free(r->chunk);
        free(r->ring);
        free(r);
        return NULL;
    }
    r->n_channels = n_channels;
    return r;
}

void st_recorder_push(st_recorder *r, float *const *channel, int n_frames)
{
    size_t w = atomic_load_explicit(&r->write_pos, memory_order_relaxed);
    size_t rd = atomic_load_explicit(&r->read_pos, memory_order_acquire);
    if (w - rd + (size_t)n_frames > RING_FRAMES) {
        atomic_fetch_add_explicit(&r->dropped, n_frames, memory_order_relaxed);
        return;
    }
    for (int i = 0; i < n_frames; i++) {
        float *frame = r->ring + ((w + (size_t)i) % RING_FRAMES) * (size_t)r->n_channels;
        for (int c = 0; c < r->n_channels; c++)
            frame[c] = channel[c][i];
    }
    atomic_store_explicit(&r->write_pos, w + (size_t)n_frames, memory_order_release);
}

void st_recorder_drain(st_recorder *r)
{
    size_t w = atomic_load_explicit(&r->write_pos, memory_order_acquire);
    size_t rd = atomic_load_explicit(&r->read_pos, memory_order_relaxed);
    size_t n = w - rd;
    for (size_t i = 0; i < n; i++)
        memcpy(r->chunk + i * (size_t)r->n_channels,
               r->ring + ((rd + i) % RING_FRAMES) * (size_t)r->n_channels,
               (size_t)r->n_channels * sizeof *r->chunk);
    atomic_store_explicit(&r->read_pos, w, memory_order_release);
    if (n && !r->write_failed && sf_writef_float(r->file, r->chunk, (sf_count_t)n) != (sf_count_t)n)
        r->write_failed = 1;
}

long st_recorder_dropped(const st_recorder *r) { return atomic_load(&r->dropped); }

int st_recorder_close(st_recorder *r, char *error, size_t error_size)
{
    st_recorder_drain(r);
    int status = ST_OK;
    if (r->write_failed) {
        snprintf(error, error_size, "cannot write '%s': %s", r->path, sf_strerror(r->file));
        status = ST_ERR;
    }
    if (sf_close(r->file) && status == ST_OK) {
        snprintf(error, error_size, "cannot finish '%s'", r->path);
        status = ST_ERR;
    }
    status = st_output_close(&r->out, status, error, error_size);
    free(r->chunk);
    free(r->ring);
    free(r);
    return status;
}
