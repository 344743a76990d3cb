#include "render.h"

#include "audio_file.h"
#include "dirs.h"
#include "outputs.h"
#include "progress.h"
#include "stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* With out_dir: one file per output, DIR/NAME.FORMAT. Two outputs with one
 * name would write one file twice: refused before anything runs. */
static int check_names(const st_program *p, const st_render_options *opt, char *error, size_t size)
{
    int n = st_program_n_ends(p, 1);
    for (int i = 0; i < n; i++) {
        const char *name = st_program_end_prefix(p, 1, i);
        if (!name[0] || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            snprintf(error, size,
                     "output %d is named '%s', which cannot be a file name in %s: give its "
                     "jack_out a name without '/' (jack_out { name = ... })",
                     i + 1, name, opt->out_path);
            return ST_ERR;
        }
        for (int k = 0; k < i; k++)
            if (strcmp(st_program_end_prefix(p, 1, i), st_program_end_prefix(p, 1, k)) == 0) {
                snprintf(error, size,
                         "outputs %d and %d are both named '%s': give each jack_out its own "
                         "name (jack_out { name = ... }), one file per name in %s",
                         k + 1, i + 1, st_program_end_prefix(p, 1, i), opt->out_path);
                return ST_ERR;
            }
    }
    return st_make_dirs(opt->out_path, 0777, error, size);
}

/* Writes the rendered channels: all in one file, or one file per output. */
static int write_outputs(const st_program *p, const st_audio *all, const st_render_options *opt,
                         int quiet, char *error, size_t size)
{
    const char *subtype = opt->subtype ? opt->subtype : "auto";
    if (!opt->out_dir)
        return st_audio_file_write(all, opt->out_path, subtype, NULL, NULL, error, size);
    int first = 0;
    for (int i = 0; i < st_program_n_ends(p, 1); i++) {
        st_audio one = *all; /* a view of this output's channels */
        one.n_channels = st_program_end_channels(p, 1, i);
        one.channel = all->channel + first;
        first += one.n_channels;
        char path[4200];
        int dir_len = (int)strlen(opt->out_path);
        while (dir_len > 1 && opt->out_path[dir_len - 1] == '/')
            dir_len--;
        snprintf(path, sizeof path, "%.*s/%s.%s", dir_len, opt->out_path,
                 st_program_end_prefix(p, 1, i), opt->format ? opt->format : "wav");
        if (st_audio_file_write(&one, path, subtype, NULL, NULL, error, size)) return ST_ERR;
        if (!quiet) { /* said once every file is in place (the output set's commit) */
            char line[4300];
            snprintf(line, sizeof line, "strata: wrote %s (%d channel%s)", path, one.n_channels,
                     one.n_channels == 1 ? "" : "s");
            st_outputs_say(stderr, line);
        }
    }
    return ST_OK;
}

int st_render(st_graph *g, const st_render_options *opt, char *error, size_t error_size)
{
    double rate = opt->rate_hz > 0 ? opt->rate_hz : st_program_natural_rate(g);
    if (rate <= 0) rate = 48000;
    int quiet = st_graph_config(g)->quiet;
    st_program *p = st_program_compile(g, opt->block_frames, rate, error, error_size);
    if (!p) return ST_ERR;
    if (opt->out_dir && check_names(p, opt, error, error_size)) {
        st_program_free(p);
        return ST_ERR;
    }
    int64_t n_frames =
        (int64_t)llround(opt->seconds * rate) + (opt->with_latency ? st_program_latency(p) : 0);
    int n_in = st_program_n_channels(p, 0), n_out = st_program_n_channels(p, 1);
    st_value *result = st_audio_new(n_out, n_frames, rate);
    float *silence = calloc((size_t)opt->block_frames, sizeof *silence);
    const float **in = calloc((size_t)n_in + 1, sizeof *in);
    float **out = calloc((size_t)n_out + 1, sizeof *out);
    int status = ST_ERR;
    if (!result || !silence || !in || !out) {
        snprintf(error, error_size, "out of memory for %g s of %d channels", opt->seconds, n_out);
        goto done;
    }
    for (int c = 0; c < n_in; c++)
        in[c] = silence;
    for (int64_t done = 0; done < n_frames;) {
        int n = n_frames - done < opt->block_frames ? (int)(n_frames - done) : opt->block_frames;
        for (int c = 0; c < n_out; c++)
            out[c] = result->u.audio.channel[c] + done;
        st_program_process(p, in, out, n);
        done += n;
        if (!quiet && (done / n) % 256 == 0)
            st_progress_draw("render", (double)done / (double)n_frames, NULL);
    }
    st_progress_done();
    char message[4400] = "";
    status = write_outputs(p, &result->u.audio, opt, quiet, message, sizeof message);
    if (status) snprintf(error, error_size, "%s", message);
    if (!status && !quiet && !opt->out_dir)
        fprintf(stderr, "strata: rendered %g s at %g Hz, %d channel%s, latency %d samples, to %s\n",
                (double)n_frames / rate, rate, n_out, n_out == 1 ? "" : "s", st_program_latency(p),
                opt->out_path);
done:
    st_value_unref(result);
    free(silence);
    free(in);
    free(out);
    st_program_free(p);
    return status;
}
