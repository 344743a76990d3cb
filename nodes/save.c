/* save: write audio through vm/audio_file.c (a temporary file renamed into place). */
#include "../vm/audio_file.h"
#include "../vm/node.h"

#include <stdio.h>

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_OUT,
     .doc = "the file to write; its extension picks the format (.wav .flac .ogg .opus .mp3 .aiff "
            ".caf .au)"},
    {"subtype", ST_P_STRING, .def_str = "auto", .choices = ST_AUDIO_SUBTYPES,
     .doc = "sample encoding; auto is FLOAT for WAV, AIFF, CAF and AU, PCM_24 for FLAC and the "
            "codec for OGG, Opus and MP3"},
    {NULL}};

static int save_check(st_ctx *ctx, const st_params *p)
{
    char reason[4400];
    if (st_audio_file_check_path(st_str(p, "path"), reason, sizeof reason) == ST_OK) return ST_OK;
    return st_fail(ctx, "%s", reason);
}

static void report(void *ctx, double fraction) { st_progress(ctx, fraction); }

static int save_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p, st_value **out)
{
    (void)n_in;
    char reason[4400];
    if (st_audio_file_write(&in[0]->u.audio, st_str(p, "path"), st_str(p, "subtype"), report, ctx,
                            reason, sizeof reason))
        return st_fail(ctx, "%s", reason);
    *out = st_value_ref(in[0]);
    return ST_OK;
}

const st_node_type st_node_save = {
    .name = "save",
    .doc = "Write audio to a file, the format taken from the extension. The file is written "
           "under a temporary name beside the target and renamed into place (by `strata` "
           "commands only once every output of the command is written), so a failure never "
           "leaves half a file or half a set; a file the patch reads is never overwritten, "
           "a read-only file only with --force, and a replaced file keeps its mode. Passes "
           "its input through.",
    .inputs = (const st_port[]){{"in", ST_AUDIO}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_AUDIO}, {NULL}},
    .params = params,
    .sink = 1,
    .check = save_check,
    .run = save_run,
};
