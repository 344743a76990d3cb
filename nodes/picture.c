/* picture: an array drawn as a PNG heat map (libpng), e.g. a loop-by-bar
 * activation map or a row of spectrogram tiles. */
#include "../vm/node.h"
#include "../vm/outputs.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const st_param params[] = {
    {"path", ST_P_STRING, .flags = ST_FILE_OUT, .doc = "the PNG file to write"},
    {"scale", ST_P_STRING, .def_str = "linear", .choices = "linear|db",
     .doc = "linear: 0 .. the largest value; db: the top range_db decibels (spectrograms)"},
    {"range_db", ST_P_NUMBER, .def = 80, .min = 1, .max = 200, .doc = "decibels shown with db"},
    {"transpose", ST_P_BOOL, .def = 0,
     .doc = "draw the last two axes swapped (a bar x loop array as loops in rows)"},
    {"flip", ST_P_BOOL, .def = 0,
     .doc = "first row at the bottom (spectrograms: low frequencies down)"},
    {"rows", ST_P_INT, .def = 0, .min = 0, .max = 4096,
     .doc = "average the rows down to this many (0: keep them)"},
    {"cell_width", ST_P_INT, .def = 1, .min = 1, .max = 256, .doc = "pixels per column"},
    {"cell_height", ST_P_INT, .def = 1, .min = 1, .max = 256, .doc = "pixels per row"},
    {"gap", ST_P_INT, .def = 4, .min = 0, .max = 256,
     .doc = "pixels between the tiles of a 3-axis array"},
    {NULL}};

/* a dark-to-bright map: black, indigo, red, orange, pale yellow */
static void colour(double v, unsigned char *rgb)
{
    static const double stops[5][3] = {
        {0, 0, 4}, {80, 18, 123}, {203, 62, 82}, {250, 150, 40}, {252, 253, 191}};
    if (!(v > 0)) v = 0;
    if (v > 1) v = 1;
    double x = v * 4;
    int i = x >= 4 ? 3 : (int)x;
    double f = x - i;
    for (int c = 0; c < 3; c++)
        rgb[c] = (unsigned char)lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
}

static int picture_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                       st_value **out)
{
    (void)n_in;
    const st_array *a = &in[0]->u.array;
    const char *path = st_str(p, "path");
    if (a->n_axes != 2 && a->n_axes != 3)
        return st_fail(ctx,
                       "a picture of a %d-axis array: give 2 axes (rows, columns) or 3 "
                       "(tiles, rows, columns)",
                       a->n_axes);
    const int tiled = a->n_axes == 3, transpose = st_int(p, "transpose"), flip = st_int(p, "flip");
    const int64_t n_tiles = tiled ? a->shape[0] : 1, in_rows = a->shape[tiled],
                  in_cols = a->shape[tiled + 1];
    const int64_t src_rows = transpose ? in_cols : in_rows, cols = transpose ? in_rows : in_cols;
    const int64_t rows =
        st_int(p, "rows") && st_int(p, "rows") < src_rows ? st_int(p, "rows") : src_rows;
    const int cw = st_int(p, "cell_width"), ch = st_int(p, "cell_height"), gap = st_int(p, "gap");
    if (src_rows < 1 || cols < 1) return st_fail(ctx, "nothing to draw: the array is empty");
    const int64_t width = n_tiles * cols * cw + (n_tiles - 1) * gap, height = rows * ch;
    if (width > 32768 || height > 32768)
        return st_fail(ctx, "the picture would be %lld x %lld pixels; use rows or smaller cells",
                       (long long)width, (long long)height);
    /* the values shown: rows averaged, then scaled to 0..1 over the whole array */
    double *v = malloc((size_t)(n_tiles * rows * cols) * sizeof *v);
    unsigned char *pixels = calloc((size_t)(width * height * 3), 1);
    if (!v || !pixels) {
        free(v), free(pixels);
        return st_fail(ctx, "out of memory");
    }
    double top = 0;
    for (int64_t t = 0; t < n_tiles; t++)
        for (int64_t r = 0; r < rows; r++) {
            int64_t r0 = r * src_rows / rows, r1 = (r + 1) * src_rows / rows;
            for (int64_t c = 0; c < cols; c++) {
                double s = 0;
                for (int64_t q = r0; q < r1; q++) {
                    int64_t i = transpose ? c : q, j = transpose ? q : c;
                    float x = a->data[(t * in_rows + i) * in_cols + j];
                    s += isfinite(x) ? fabs(x) : 0;
                }
                s /= (double)(r1 - r0);
                v[(t * rows + r) * cols + c] = s;
                if (s > top) top = s;
            }
        }
    const int db = st_choice(p, "scale") == 1;
    const double range = st_num(p, "range_db");
    /* the gaps between tiles stay white */
    memset(pixels, 255, (size_t)(width * height * 3));
    for (int64_t t = 0; t < n_tiles; t++)
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < cols; c++) {
                double x = v[(t * rows + r) * cols + c];
                double u = top <= 0 ? 0 : db ? 1 + 20 * log10(x / top + 1e-30) / range : x / top;
                unsigned char rgb[3];
                colour(u, rgb);
                int64_t y0 = (flip ? rows - 1 - r : r) * ch, x0 = t * (cols * cw + gap) + c * cw;
                for (int dy = 0; dy < ch; dy++)
                    for (int dx = 0; dx < cw; dx++)
                        memcpy(pixels + ((y0 + dy) * width + x0 + dx) * 3, rgb, 3);
            }
    free(v);
    /* through vm/outputs.h: an unpredictable temporary name beside the target,
     * renamed into place with the command's other outputs */
    char reason[4400];
    st_output o;
    int status = st_output_open(&o, path, reason, sizeof reason) == ST_OK
                     ? ST_OK
                     : st_fail(ctx, "%s", reason);
    FILE *f = status == ST_OK ? fdopen(o.fd, "wb") : NULL;
    if (status == ST_OK && !f) {
        status = st_fail(ctx, "cannot write '%s': %s", path, strerror(errno));
        st_output_close(&o, ST_ERR, reason, sizeof reason);
    }
    if (f) {
        png_image image;
        memset(&image, 0, sizeof image);
        image.version = PNG_IMAGE_VERSION;
        image.width = (png_uint_32)width;
        image.height = (png_uint_32)height;
        image.format = PNG_FORMAT_RGB;
        if (!png_image_write_to_stdio(&image, f, 0, pixels, 0, NULL))
            status = st_fail(ctx, "cannot write '%s': libpng: %s", path, image.message);
        if (fflush(f) != 0 && status == ST_OK)
            status = st_fail(ctx, "cannot finish '%s': %s", path, strerror(errno));
        o.fd = dup(o.fd); /* st_output_close closes its own descriptor; fclose the stream's */
        fclose(f);
        if (st_output_close(&o, status, reason, sizeof reason) != ST_OK && status == ST_OK)
            status = st_fail(ctx, "%s", reason);
    }
    free(pixels);
    if (status == ST_OK) *out = st_value_ref(in[0]);
    return status;
}

const st_node_type st_node_picture = {
    .name = "picture",
    .doc = "Draw an array as a PNG heat map with libpng: a 2-axis array as rows x columns, a "
           "3-axis one as tiles side by side (one per first index), dark for 0 to bright for "
           "the largest magnitude (linear, or the top range_db decibels). Written under a "
           "temporary name and renamed into place. Passes its input through.",
    .inputs = (const st_port[]){{"in", ST_ARRAY}, {NULL}},
    .outputs = (const st_port[]){{"out", ST_ARRAY}, {NULL}},
    .params = params,
    .sink = 1,
    .run = picture_run,
};
