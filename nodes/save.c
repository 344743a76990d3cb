/* save: write audio with libsndfile, into a temporary file renamed into place. */
#include "save.h"

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

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_OUT,
     .doc = "the file to write; its extension picks the format (.wav .flac .ogg .opus .mp3 .aiff "
            ".caf .au)"},
    {"subtype", ST_P_STRING, .def_str = "auto",
     .choices = "auto|PCM_16|PCM_24|PCM_32|FLOAT|DOUBLE|VORBIS|OPUS|MP3",
     .doc = "sample encoding; auto is FLOAT for WAV, AIFF, CAF and AU, PCM_24 for FLAC and the "
            "codec for OGG, Opus and MP3"},
    {NULL}};

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

/* Indexed like the choices of "subtype". */
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

static int folder_exists(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    struct stat st;
    return stat(dirname(copy), &st) == 0 && S_ISDIR(st.st_mode);
}

static int check_path(const char *path, char *error, size_t size)
{
    char copy[4096];
    if (!container_of(path)) {
        snprintf(error, size,
                 "save: cannot tell the format of '%s' from its extension (use .wav, .flac, .ogg, "
                 ".opus, .mp3, .aiff, .caf or .au)",
                 path);
        return ST_ERR;
    }
    if (!folder_exists(path)) {
        snprintf(copy, sizeof copy, "%s", path);
        snprintf(error, size, "save: cannot write '%s': the folder '%s' does not exist", path,
                 dirname(copy));
        return ST_ERR;
    }
    return ST_OK;
}

static int save_check(st_ctx *ctx, const st_params *p)
{
    return check_path(st_str(p, "path"), ctx->error, ctx->error_size);
}

int st_save_audio(st_ctx *ctx, const st_audio *a, const char *path, const char *subtype_name)
{
    const container *box = container_of(path);
    char tmp[4200];
    int choice = st_choice_index(params[1].choices, subtype_name);
    if (check_path(path, ctx->error, ctx->error_size)) return ST_ERR;
    if (choice < 0)
        return st_fail(ctx, "unknown subtype \"%s\" (%s)", subtype_name, params[1].choices);
    if (a->n_frames == 0) return st_fail(ctx, "nothing to write to '%s': the audio is empty", path);
    for (int c = 0; c < a->n_channels; c++)
        for (int64_t i = 0; i < a->n_frames; i++)
            if (!isfinite(a->channel[c][i]))
                return st_fail(ctx, "refusing to write '%s': sample %lld of channel %d is %s", path,
                               (long long)i, c + 1, isnan(a->channel[c][i]) ? "NaN" : "infinite");
    int subtype = subtypes[choice];
    SF_INFO info = {.samplerate = (int)lround(a->rate_hz),
                    .channels = a->n_channels,
                    .format = box->major | (subtype ? subtype : box->auto_subtype)};
    if (!sf_format_check(&info))
        return st_fail(ctx,
                       "cannot write '%s' as %s: libsndfile does not support that combination at "
                       "%d Hz with %d channels",
                       path, subtype_name, info.samplerate, info.channels);
    /* beside the target, so that rename never crosses a file system */
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    SNDFILE *f = sf_open(tmp, SFM_WRITE, &info);
    if (!f) {
        st_fail(ctx, "cannot write '%s': %s", path, sf_strerror(NULL));
        unlink(tmp); /* libsndfile may have made it before giving up */
        return ST_ERR;
    }
    sf_command(f, SFC_SET_CLIPPING, NULL, SF_TRUE);
    /* libsndfile's PEAK chunk carries the time of writing: without it the same
     * samples always make the same file */
    sf_command(f, SFC_SET_ADD_PEAK_CHUNK, NULL, SF_FALSE);
    float *block = malloc((size_t)BLOCK_FRAMES * (size_t)a->n_channels * sizeof *block);
    int status = block ? ST_OK : st_fail(ctx, "out of memory writing '%s'", path);
    for (int64_t done = 0; status == ST_OK && done < a->n_frames;) {
        int64_t n = a->n_frames - done < BLOCK_FRAMES ? a->n_frames - done : BLOCK_FRAMES;
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < a->n_channels; c++)
                block[i * a->n_channels + c] = a->channel[c][done + i];
        if (sf_writef_float(f, block, n) != n)
            status = st_fail(ctx, "cannot write '%s': %s", path, sf_strerror(f));
        done += n;
        st_progress(ctx, (double)done / (double)a->n_frames);
    }
    free(block);
    if (sf_close(f) != 0 && status == ST_OK)
        status = st_fail(ctx, "cannot finish '%s': %s", path, sf_strerror(NULL));
    if (status == ST_OK && rename(tmp, path) != 0)
        status = st_fail(ctx, "cannot move the finished file into '%s': %s", path, strerror(errno));
    if (status != ST_OK) unlink(tmp);
    return status;
}

static int save_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    if (st_save_audio(ctx, &in[0]->u.audio, st_str(p, "path"), st_str(p, "subtype"))) return ST_ERR;
    *out = st_value_ref(in[0]);
    return ST_OK;
}

const st_node_type st_node_save = {
    .name = "save",
    .doc = "Write audio to a file, the format taken from the extension. The file is written "
           "under a temporary name beside the target and renamed into place, so a failure "
           "never leaves half a file; a file the patch reads is never overwritten. Passes its "
           "input through.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .sink = 1,
    .check = save_check,
    .run = save_run,
};
