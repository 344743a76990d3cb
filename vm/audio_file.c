#include "audio_file.h"

#include "node.h"
#include "outputs.h"

#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define BLOCK_FRAMES 65536

typedef struct {
    const char *ext;
    int major, auto_subtype;
} container;

static const container containers[] = {{"wav", SF_FORMAT_WAV, SF_FORMAT_FLOAT},
                                       {"flac", SF_FORMAT_FLAC, SF_FORMAT_PCM_24},
                                       {"ogg", SF_FORMAT_OGG, SF_FORMAT_VORBIS},
                                       {"opus", SF_FORMAT_OGG, SF_FORMAT_OPUS},
                                       {"mp3", SF_FORMAT_MPEG, SF_FORMAT_MPEG_LAYER_III},
                                       {"aiff", SF_FORMAT_AIFF, SF_FORMAT_FLOAT},
                                       {"aif", SF_FORMAT_AIFF, SF_FORMAT_FLOAT},
                                       {"caf", SF_FORMAT_CAF, SF_FORMAT_FLOAT},
                                       {"au", SF_FORMAT_AU, SF_FORMAT_FLOAT},
                                       {NULL, 0, 0}};

/* Indexed like ST_AUDIO_SUBTYPES; 0 is the container's own choice. */
static const int subtypes[] = {0,
                               SF_FORMAT_PCM_16,
                               SF_FORMAT_PCM_24,
                               SF_FORMAT_PCM_32,
                               SF_FORMAT_FLOAT,
                               SF_FORMAT_DOUBLE,
                               SF_FORMAT_VORBIS,
                               SF_FORMAT_OPUS,
                               SF_FORMAT_MPEG_LAYER_III};

static const container *container_of(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return NULL;
    for (const container *c = containers; c->ext; c++)
        if (strcasecmp(dot + 1, c->ext) == 0) return c;
    return NULL;
}

int st_audio_file_check_path(const char *path, char *error, size_t size)
{
    char copy[4096];
    if (!container_of(path)) {
        snprintf(error, size,
                 "cannot tell the format of '%s' from its extension (use .wav, .flac, .ogg, "
                 ".opus, .mp3, .aiff, .caf or .au)",
                 path);
        return ST_ERR;
    }
    if (!st_output_folder_exists(path)) {
        snprintf(copy, sizeof copy, "%s", path);
        snprintf(error, size, "cannot write '%s': the folder '%s' does not exist", path,
                 dirname(copy));
        return ST_ERR;
    }
    return ST_OK;
}

int st_audio_file_write(const st_audio *a, const char *path, const char *subtype_name,
                        void (*progress)(void *data, double fraction), void *progress_data,
                        char *error, size_t size)
{
    const container *box = container_of(path);
    int choice = st_choice_index(ST_AUDIO_SUBTYPES, subtype_name);
    if (st_audio_file_check_path(path, error, size)) return ST_ERR;
    if (choice < 0) {
        snprintf(error, size, "unknown subtype \"%s\" (%s)", subtype_name, ST_AUDIO_SUBTYPES);
        return ST_ERR;
    }
    if (a->n_frames == 0) {
        snprintf(error, size, "nothing to write to '%s': the audio is empty", path);
        return ST_ERR;
    }
    for (int c = 0; c < a->n_channels; c++)
        for (int64_t i = 0; i < a->n_frames; i++)
            if (!isfinite(a->channel[c][i])) {
                snprintf(error, size, "refusing to write '%s': sample %lld of channel %d is %s",
                         path, (long long)i, c + 1, isnan(a->channel[c][i]) ? "NaN" : "infinite");
                return ST_ERR;
            }
    int subtype = subtypes[choice];
    SF_INFO info = {.samplerate = (int)lround(a->rate_hz),
                    .channels = a->n_channels,
                    .format = box->major | (subtype ? subtype : box->auto_subtype)};
    if (!sf_format_check(&info)) {
        snprintf(error, size,
                 "cannot write '%s' as %s: libsndfile does not support that combination at "
                 "%d Hz with %d channels",
                 path, subtype_name, info.samplerate, info.channels);
        return ST_ERR;
    }
    st_output o;
    if (st_output_open(&o, path, error, size)) return ST_ERR;
    SNDFILE *f = sf_open_fd(o.fd, SFM_WRITE, &info, SF_FALSE);
    if (!f) {
        snprintf(error, size, "cannot write '%s': %s", path, sf_strerror(NULL));
        return st_output_close(&o, ST_ERR, error, size);
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    /* libsndfile's PEAK chunk carries the time of writing: without it the same
     * samples always make the same file */
    sf_command(f, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    float *block = malloc((size_t)BLOCK_FRAMES * (size_t)a->n_channels * sizeof *block);
    int status = ST_OK;
    if (!block) status = ST_ERR, snprintf(error, size, "out of memory writing '%s'", path);
    for (int64_t done = 0; status == ST_OK && done < a->n_frames;) {
        int64_t n = a->n_frames - done < BLOCK_FRAMES ? a->n_frames - done : BLOCK_FRAMES;
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < a->n_channels; c++)
                block[i * a->n_channels + c] = a->channel[c][done + i];
        if (sf_writef_float(f, block, n) != n)
            status = ST_ERR, snprintf(error, size, "cannot write '%s': %s", path, sf_strerror(f));
        done += n;
        if (progress) progress(progress_data, (double)done / (double)a->n_frames);
    }
    free(block);
    if (sf_close(f) != 0 && status == ST_OK)
        status = ST_ERR, snprintf(error, size, "cannot finish '%s': %s", path, sf_strerror(NULL));
    return st_output_close(&o, status, error, size);
}
