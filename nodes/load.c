/* load: read an audio file with libsndfile, checking it is whole and sane. */
#include "../vm/outputs.h"
#include "../vm/node.h"
#include "dsp/resample.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Rates are read from ST_MIN_RATE_HZ to ST_MAX_RATE_HZ (vm/value.h): below, no node makes
 * sense of the file (an STFT frame of 2048 samples lasts seconds, the beat tracker cannot
 * resample it), and each would say so in its own terms without naming the file. */
#define RATE_RANGE ": audio is read at " ST_RATE_RANGE
/* A float file's sample beyond this is not audio (120 dB above full scale):
 * refused here, where the file can be named, before an FFT overflows. */
#define MAX_SAMPLE 1e6f
/* samples read at a time, whatever the channel count */
#define BLOCK_SAMPLES (1 << 20)

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_IN,
     .doc = "the file to read (any format libsndfile reads: WAV, FLAC, OGG, Opus, MP3, AIFF, ...)"},
    {"channels", ST_P_STRING, .def_str = "all",
     .doc = "\"all\", \"mono\" (the mean of the channels) or a list of channel numbers from 1, "
            "such as \"2\" or \"2,1\""},
    {"start", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6, .doc = "seconds to skip at the start"},
    {"duration", ST_P_NUMBER, .def = 0, .min = 0, .max = 1e6,
     .doc = "seconds to read; 0 reads to the end"},
    {"rate", ST_P_NUMBER, .def = 0, .min = 0, .max = ST_MAX_RATE_HZ,
     .doc = "resample to this rate in Hz, " ST_RATE_RANGE " (libsamplerate); 0 keeps the file's "
            "rate"},
    {"quality", ST_P_STRING, .def_str = "best", .choices = "best|medium|fast",
     .doc = "resampling quality (libsamplerate's sinc converters)"},
    {NULL}};

/* The most entries "all" or a list like "2,1" can give: the list has room for them. */
static int max_channels(const char *spec, int n_file)
{
    int n = 1;
    for (const char *p = spec; *p; p++)
        n += *p == ',';
    return n > n_file ? n : n_file;
}

/* Parses "all", "mono" or "2,1" into a list of 0-based channels (room for
 * max_channels entries); mono is -1. */
static int parse_channels(const char *spec, int n_file, int *list, int *n_list, char *error,
                          size_t size)
{
    if (strcmp(spec, "all") == 0) {
        for (int c = 0; c < n_file; c++)
            list[c] = c;
        *n_list = n_file;
        return ST_OK;
    }
    if (strcmp(spec, "mono") == 0) {
        *n_list = -1;
        return ST_OK;
    }
    *n_list = 0;
    for (const char *p = spec; *p;) {
        char *end;
        long c = strtol(p, &end, 10);
        if (end == p || c < 1 || c > n_file) {
            snprintf(error, size, "channels = \"%s\": the file has %d channel%s", spec, n_file,
                     n_file == 1 ? "" : "s");
            return ST_ERR;
        }
        list[(*n_list)++] = (int)c - 1;
        p = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') {
            snprintf(error, size,
                     "channels = \"%s\" is not \"all\", \"mono\" or a list like \"2,1\"", spec);
            return ST_ERR;
        }
    }
    if (*n_list == 0) {
        snprintf(error, size, "channels = \"%s\" is not \"all\", \"mono\" or a list like \"2,1\"",
                 spec);
        return ST_ERR;
    }
    return ST_OK;
}

/* libsndfile reads a WAV whose data chunk was cut short without complaint;
 * its log says so ("data : N (should be M)"). */
static int header_promises_more(SNDFILE *f)
{
    char log[8192];
    sf_command(f, SFC_GET_LOG_INFO, log, sizeof log);
    for (char *line = strstr(log, "data"); line; line = strstr(line + 4, "data")) {
        char *eol = strchr(line, '\n');
        char *should = strstr(line, "(should be");
        if (should && (!eol || should < eol)) return 1;
    }
    return 0;
}

/* libsndfile refuses a WAV whose rate is 0 with a message about its own
 * structs; read the rate from the header to say what is wrong. */
static int wav_header_rate(int fd, long *rate_hz)
{
    unsigned char h[64];
    ssize_t n = pread(fd, h, sizeof h, 0);
    if (n < 44 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVEfmt ", 8) != 0) return 0;
    *rate_hz = (long)h[24] | (long)h[25] << 8 | (long)h[26] << 16 | (long)h[27] << 24;
    return 1;
}

/* Opens path for libsndfile: a regular file, or a pipe (process
 * substitution); never a device, and never waiting in open(). */
static int open_audio(st_ctx *ctx, const char *path, const char *name, int *fd)
{
    struct stat st;
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0) return st_fail(ctx, "cannot open '%s': %s", name, strerror(errno));
    if (fstat(*fd, &st) != 0 || S_ISDIR(st.st_mode) ||
        !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
        int folder = S_ISDIR(st.st_mode);
        close(*fd);
        return st_fail(ctx, "cannot open '%s': %s", name,
                       folder ? "it is a folder" : "it is not a regular file");
    }
    fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
    return ST_OK;
}

static int load_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)in, (void)n_in;
    const char *path = st_str(p, "path");
    /* a file this command wrote and has not yet moved into place */
    const char *pending = st_outputs_pending(path);
    int fd;
    if (open_audio(ctx, pending ? pending : path, path, &fd)) return ST_ERR;
    long header_rate;
    int known_rate = wav_header_rate(fd, &header_rate);
    SF_INFO info = {0};
    SNDFILE *f = sf_open_fd(fd, SFM_READ, &info, SF_FALSE);
    if (!f) close(fd);
    if (!f && known_rate && (header_rate < ST_MIN_RATE_HZ || header_rate > ST_MAX_RATE_HZ))
        return st_fail(ctx, "'%s' has an absurd sample rate (%ld Hz)" RATE_RANGE, path,
                       header_rate);
    if (!f)
        return st_fail(ctx, "'%s' is not an audio file libsndfile can read (%s)", path,
                       sf_strerror(NULL));
    int status = ST_ERR;
    float *block = NULL;
    st_value *v = NULL;
    int *list = NULL, n_list;
    char reason[256];
    if (info.samplerate < ST_MIN_RATE_HZ || info.samplerate > ST_MAX_RATE_HZ) {
        st_fail(ctx, "'%s' has an absurd sample rate (%d Hz)" RATE_RANGE, path, info.samplerate);
        goto done;
    }
    if (info.channels < 1) {
        st_fail(ctx, "'%s' has no channels", path);
        goto done;
    }
    if (info.frames <= 0) {
        st_fail(ctx, "'%s' holds no audio (0 frames)", path);
        goto done;
    }
    if (header_promises_more(f)) {
        st_fail(ctx, "'%s' is truncated: its header promises more audio than the file holds", path);
        goto done;
    }
    const char *spec = st_str(p, "channels");
    if (!(list = malloc((size_t)max_channels(spec, info.channels) * sizeof *list))) {
        st_fail(ctx, "out of memory reading '%s'", path);
        goto done;
    }
    if (parse_channels(spec, info.channels, list, &n_list, reason, sizeof reason)) {
        st_fail(ctx, "%s", reason);
        goto done;
    }
    int64_t first = (int64_t)llround(st_num(p, "start") * info.samplerate);
    int64_t n_frames = info.frames - first;
    if (first >= info.frames) {
        st_fail(ctx, "start = %g s is past the end of '%s' (%.3f s)", st_num(p, "start"), path,
                (double)info.frames / info.samplerate);
        goto done;
    }
    if (st_num(p, "duration") > 0) {
        int64_t want = (int64_t)llround(st_num(p, "duration") * info.samplerate);
        if (want < n_frames) n_frames = want;
    }
    if (first > 0 && sf_seek(f, first, SEEK_SET) < 0) {
        st_fail(ctx, "cannot seek in '%s': %s", path, sf_strerror(f));
        goto done;
    }
    int n_out = n_list < 0 ? 1 : n_list;
    v = st_audio_new(n_out, n_frames, info.samplerate);
    const int64_t block_frames = info.channels < BLOCK_SAMPLES ? BLOCK_SAMPLES / info.channels : 1;
    block = malloc((size_t)block_frames * (size_t)info.channels * sizeof *block);
    if (!v || !block) {
        st_fail(ctx, "out of memory reading '%s'", path);
        goto done;
    }
    const int n_ch = info.channels;
    for (int64_t done_frames = 0; done_frames < n_frames;) {
        int64_t want =
            n_frames - done_frames < block_frames ? n_frames - done_frames : block_frames;
        sf_count_t got = sf_readf_float(f, block, want);
        if (got <= 0) {
            st_fail(ctx, "'%s' is truncated or corrupt: read %lld of %lld frames", path,
                    (long long)(first + done_frames), (long long)info.frames);
            goto done;
        }
        for (sf_count_t i = 0; i < got; i++) {
            const float *frame = block + (size_t)i * (size_t)n_ch;
            for (int c = 0; c < n_ch; c++)
                if (!isfinite(frame[c])) {
                    st_fail(ctx, "'%s' has %s sample at index %lld (channel %d)", path,
                            isnan(frame[c]) ? "a NaN" : "an infinite",
                            (long long)(first + done_frames + i), c + 1);
                    goto done;
                } else if (fabsf(frame[c]) > MAX_SAMPLE) {
                    st_fail(ctx,
                            "'%s' has a sample of %g at index %lld (channel %d): not audio "
                            "(full scale is 1)",
                            path, (double)frame[c], (long long)(first + done_frames + i), c + 1);
                    goto done;
                }
            if (n_list < 0) {
                float sum = 0;
                for (int c = 0; c < n_ch; c++)
                    sum += frame[c];
                v->u.audio.channel[0][done_frames + i] = sum / (float)n_ch;
            } else {
                for (int c = 0; c < n_list; c++)
                    v->u.audio.channel[c][done_frames + i] = frame[list[c]];
            }
        }
        done_frames += got;
        st_progress(ctx, (double)done_frames / (double)n_frames);
    }
    double rate = st_num(p, "rate");
    if (rate > 0 && rate != info.samplerate) {
        st_value *r = st_resample(&v->u.audio, rate, st_choice(p, "quality"), ctx->n_threads,
                                  reason, sizeof reason);
        if (!r) {
            st_fail(ctx, "'%s': %s", path, reason);
            goto done;
        }
        st_value_unref(v);
        v = r;
    }
    *out = v;
    v = NULL;
    status = ST_OK;
done:
    st_value_unref(v);
    free(block);
    free(list);
    sf_close(f);
    close(fd);
    return status;
}

/* rate: 0 (the file's) or a rate strata reads, which the descriptor's range
 * cannot say: 1 to 999 Hz failed later without naming the file */
static int load_check(st_ctx *ctx, const st_params *p)
{
    double rate = st_num(p, "rate");
    if (rate != 0 && rate < ST_MIN_RATE_HZ)
        return st_fail(
            ctx, "parameter rate = %g Hz is outside " ST_RATE_RANGE " (0 keeps the file's rate)",
            rate);
    return ST_OK;
}

const st_node_type st_node_load = {
    .name = "load",
    .doc = "Read an audio file. Channels may be picked or mixed to mono, a stretch cut out "
           "and the rate converted. A missing, unreadable, truncated or empty file, a NaN, "
           "infinite or absurd sample (beyond 1e6, full scale being 1) or a sample rate "
           "outside " ST_RATE_RANGE " is an error that names the file.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .check = load_check,
    .run = load_run,
};
