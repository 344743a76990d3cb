/* Reading activation files: madmom's text format (np.savetxt of an
 * n_frames x 2 array), for the beats and load_activations nodes. */
#include "activations_file.h"

#include "../vm/files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* madmom's activation text: rows of two numbers in [0, 1]. *act gets
 * 2 x *n_frames values (free it). */
int st_activations_read(st_ctx *ctx, const char *param, const char *path, double **act,
                        int64_t *n_frames)
{
    /* a regular file of bounded size (a FIFO or /dev/zero would hang or fill
     * memory: issue 9.4); an hour at 100 frames a second is 15 MB */
    char *text, why[300];
    size_t size;
    if (st_file_read(path, (size_t)256 << 20, &text, &size, why, sizeof why))
        return st_fail(ctx, "parameter %s: %s", param, why);
    FILE *f = size ? fmemopen(text, size, "r") : NULL;
    if (size && !f) {
        free(text);
        return st_fail(ctx, "out of memory");
    }
    double *a = NULL;
    int64_t n = 0, cap = 0, line_no = 0;
    int status = ST_OK;
    char line[512];
    while (status == ST_OK && f && fgets(line, sizeof line, f)) {
        line_no++;
        char *s = line + strspn(line, " \t\r\n");
        if (*s == '#' || *s == 0) continue;
        char *end1, *end2;
        double beat = strtod(s, &end1), down = strtod(end1, &end2);
        end2 += strspn(end2, " \t\r\n");
        if (end1 == s || end2 == end1 || *end2 || !(beat >= 0 && beat <= 1) ||
            !(down >= 0 && down <= 1)) {
            s[strcspn(s, "\r\n")] = 0; /* the message stays one line */
            status = st_fail(ctx,
                             "parameter %s: '%s' line %lld: expected two activations "
                             "in [0, 1], found \"%.40s\"",
                             param, path, (long long)line_no, s);
            break;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 4096;
            double *grown = realloc(a, (size_t)cap * 2 * sizeof *a);
            if (!grown) {
                status = st_fail(ctx, "out of memory");
                break;
            }
            a = grown;
        }
        a[2 * n] = beat;
        a[2 * n + 1] = down;
        n++;
    }
    if (f) fclose(f);
    free(text);
    if (status == ST_OK && n == 0)
        status = st_fail(ctx, "parameter %s: '%s' holds no activations", param, path);
    if (status != ST_OK) {
        free(a);
        return status;
    }
    *act = a;
    *n_frames = n;
    return ST_OK;
}
