#include "render.h"

#include "audio_file.h"
#include "progress.h"
#include "stream.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

int st_render(st_graph *g, const st_render_options *opt, char *error, size_t error_size)
{
    double rate = opt->rate_hz > 0 ? opt->rate_hz : st_program_natural_rate(g);
    if (rate <= 0) rate = 48000;
    int quiet = st_graph_config(g)->quiet;
    st_program *p = st_program_compile(g, opt->block_frames, rate, error, error_size);
    if (!p) return ST_ERR;
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
    status = st_audio_file_write(&result->u.audio, opt->out_path, "auto", NULL, NULL, message,
                                 sizeof message);
    if (status) snprintf(error, error_size, "render: %s", message);
    if (!status && !quiet)
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
