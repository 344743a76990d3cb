/* load_beats: beat times (and bar positions) from a text file. */
#include "../vm/files.h"
#include "../vm/node.h"
#include "dsp/beats.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A beat list of a whole concert is a few hundred kilobytes. */
#define MAX_FILE_BYTES (64 << 20)

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_IN,
     .doc = "a text file with one beat per line: `time` or `time bar_position` (1 = downbeat); "
            "blank lines and lines starting with # are skipped. Times are seconds, increasing, "
            "at most 30000 (as mir_eval checks); a repeated time is an error"},
    {NULL}};

static int is_blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

static int load_beats_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                          st_value **out)
{
    (void)in, (void)n_in;
    const char *path = st_str(p, "path");
    char *text, why[300];
    size_t size;
    if (st_file_read(path, MAX_FILE_BYTES, &text, &size, why, sizeof why))
        return st_fail(ctx, "%s", why);
    if (memchr(text, 0, size)) {
        free(text);
        return st_fail(ctx, "'%s' is not a text file (it holds a zero byte)", path);
    }
    double *times = NULL;
    int *labels = NULL, n = 0, cap = 0, line_no = 0, status = ST_OK;
    for (char *line = text, *next; status == ST_OK && *line; line = next) {
        char *eol = strchr(line, '\n');
        next = eol ? eol + 1 : line + strlen(line);
        if (eol) *eol = 0;
        line_no++;
        char *s = line;
        while (is_blank(*s))
            s++;
        if (*s == '#' || *s == 0) continue;
        char *end;
        double t = strtod(s, &end);
        if (end == s || (*end && !is_blank(*end))) {
            status = st_fail(ctx, "'%s' line %d: expected a time in seconds, found \"%.40s\"", path,
                             line_no, s);
            break;
        }
        for (s = end; is_blank(*s); s++) {}
        long label = 0;
        if (*s && *s != '#') {
            errno = 0;
            label = strtol(s, &end, 10);
            while (is_blank(*end))
                end++;
            if (end == s || errno || label < 0 || label > 1000000 || (*end && *end != '#')) {
                status = st_fail(ctx,
                                 "'%s' line %d: expected a bar position (a whole number), found "
                                 "\"%.40s\"",
                                 path, line_no, s);
                break;
            }
        }
        if (!isfinite(t) || t < 0 || t > ST_BEAT_MAX_TIME_S) {
            status = st_fail(ctx,
                             "'%s' line %d: %g is not a time from 0 to %g s (are the times in "
                             "seconds?)",
                             path, line_no, t, ST_BEAT_MAX_TIME_S);
            break;
        }
        if (n > 0 && t <= times[n - 1]) {
            status = st_fail(ctx, "'%s' line %d: %g s %s the previous beat (%g s)", path, line_no,
                             t, t == times[n - 1] ? "repeats" : "comes before", times[n - 1]);
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
    free(text);
    st_value *v = status == ST_OK ? st_events_new(n) : NULL;
    if (status == ST_OK && !v) status = st_fail(ctx, "out of memory");
    if (v && n > 0) { /* an empty list is zero events, as mir_eval allows (with a warning) */
        memcpy(v->u.events.time_s, times, (size_t)n * sizeof *times);
        memcpy(v->u.events.label, labels, (size_t)n * sizeof *labels);
    }
    if (v) *out = v;
    free(times);
    free(labels);
    return status;
}

const st_node_type st_node_load_beats = {
    .name = "load_beats",
    .doc = "Read beat times from a text file (mir_eval's and the corpus's format): events whose "
           "label is the bar position, or 0 where the file gives none. An empty file gives no "
           "events; a FIFO, a device or a file over 64 MB is refused.",
    .inputs = (const st_port[]){{NULL}},
    .outputs = (const st_port[]){{"out", ST_EVENTS}, {NULL}},
    .params = params,
    .run = load_beats_run,
};
