/* load_beats: beat times (and bar positions) from a text file. */
#include "../vm/node.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_IN,
     .doc = "a text file with one beat per line: `time` or `time bar_position` (1 = downbeat); "
            "blank lines and lines starting with # are skipped"},
    {NULL}};

static int load_beats_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    (void)in, (void)n_in;
    const char *path = st_str(p, "path");
    FILE *f = fopen(path, "r");
    if (!f) return st_fail(ctx, "cannot open '%s': %s", path, strerror(errno));
    double *times = NULL;
    int *labels = NULL, n = 0, cap = 0, line_no = 0, status = ST_OK;
    char line[1024];
    while (status == ST_OK && fgets(line, sizeof line, f)) {
        line_no++;
        char *s = line + strspn(line, " \t");
        if (*s == '#' || *s == '\n' || *s == '\r' || *s == 0) continue;
        char *end;
        double t = strtod(s, &end);
        if (end == s || !isfinite(t) || t < 0) {
            status = st_fail(ctx, "'%s' line %d: expected a time in seconds, found \"%.40s\"", path,
                             line_no, s);
            break;
        }
        long label = strtol(end, &end, 10);
        if (n > 0 && t < times[n - 1]) {
            status = st_fail(ctx, "'%s' line %d: %g s comes before the previous beat (%g s)", path,
                             line_no, t, times[n - 1]);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            double *grown_t = realloc(times, (size_t)cap * sizeof *times);
            if (grown_t) times = grown_t;
            int *grown_l = realloc(labels, (size_t)cap * sizeof *labels);
            if (grown_l) labels = grown_l;
            if (!grown_t || !grown_l) status = st_fail(ctx, "out of memory");
        }
        if (status == ST_OK) {
            times[n] = t;
            labels[n++] = (int)label;
        }
    }
    fclose(f);
    st_value *v = status == ST_OK ? st_events_new(n) : NULL;
    if (status == ST_OK && !v) status = st_fail(ctx, "out of memory");
    if (v) {
        if (n > 0) { /* an empty file leaves times NULL: memcpy must not see it */
            memcpy(v->u.events.time_s, times, (size_t)n * sizeof *times);
            memcpy(v->u.events.label, labels, (size_t)n * sizeof *labels);
        }
        *out = v;
    }
    free(times);
    free(labels);
    return status;
}

const st_node_type st_node_load_beats = {
    .name = "load_beats",
    .doc = "Read beat times from a text file (mir_eval's and the corpus's format): events whose "
           "label is the bar position, or 0 where the file gives none.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_EVENTS}, {NULL}},
    .params = params,
    .run = load_beats_run,
};
