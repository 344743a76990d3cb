/* `strata render`: a stream program run offline, as fast as it goes, with the
 * code the JACK callback runs. jack_in nodes hear silence.
 *
 * The program's outputs (jack_out nodes) go to one file, their channels in
 * the order the patch made them, or, with out_dir, to one file per output in
 * that folder, named after the output (jack_out's `name`: DIR/NAME.FORMAT). */
#ifndef ST_RENDER_H
#define ST_RENDER_H

#include "graph.h"

typedef struct {
    const char *out_path; /* the file, or with out_dir the folder (made if missing) */
    int out_dir;
    const char *format;  /* out_dir: the extension of every file (wav, flac, ogg) */
    const char *subtype; /* one of ST_AUDIO_SUBTYPES; NULL: auto */
    double seconds;
    int with_latency; /* add the program's latency: the whole input comes out */
    int block_frames;
    double rate_hz; /* 0: the rate of the first played value, else 48000 */
} st_render_options;

/* ST_OK, or ST_ERR with one line in error. */
int st_render(st_graph *g, const st_render_options *opt, char *error, size_t error_size);

#endif
