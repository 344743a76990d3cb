/* REPET-SIM's repeating frames: the symmetric path (the upper triangle of the
 * similarities kept, each computed once) picks what the path by blocks of
 * whole rows picks. OpenBLAS rounds a product by where it sits in its tiles
 * (S[i][j] and S[j][i] differ in the last bit for ~6 % of pairs, in either
 * path), so where two candidates are within that rounding the two paths may
 * order them differently, as either may differ from nussl's float64: the
 * frames must agree but for such near ties. */
#include "../../nodes/dsp/repet.h"
#include "check.h"

#include <complex.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frames whose neighbour lists (and counts) differ between two runs. */
static int64_t frames_differ(const int32_t *nb_a, const int *count_a, const int32_t *nb_b,
                             const int *count_b, int64_t n_frames, int width)
{
    int64_t differ = 0;
    for (int64_t t = 0; t < n_frames; t++) {
        int same = count_a[t] == count_b[t];
        for (int j = 0; j < width; j++)
            same &= nb_a[t * width + j] == nb_b[t * width + j];
        differ += !same;
    }
    return differ;
}

void test_repet(void)
{
    const int64_t n_frames = 700;
    const int n_bins = 67, n_peaks = 40, width = n_peaks - 1;
    float *unit = malloc((size_t)n_frames * n_bins * sizeof *unit);
    int32_t *nb_sym = malloc((size_t)n_frames * width * sizeof *nb_sym);
    int32_t *nb_rows = malloc((size_t)n_frames * width * sizeof *nb_rows);
    int *count_sym = malloc((size_t)n_frames * sizeof *count_sym);
    int *count_rows = malloc((size_t)n_frames * sizeof *count_rows);
    if (!unit || !nb_sym || !nb_rows || !count_sym || !count_rows) {
        CHECK("repet_sim neighbours: memory", 0, "out of memory");
        return;
    }
    unsigned state = 12345;
    for (int64_t t = 0; t < n_frames; t++) {
        float *row = unit + t * n_bins;
        double norm = 0;
        for (int k = 0; k < n_bins; k++) {
            state = state * 1664525u + 1013904223u;
            row[k] = (float)((state >> 8) & 0xffff) / 65536.0f * (1.0f + (float)(t % 7 == k % 7));
            norm += (double)row[k] * row[k];
        }
        for (int k = 0; k < n_bins; k++)
            row[k] = (float)(row[k] / sqrt(norm));
    }
    int a = st_repet_sim_neighbours(unit, n_frames, n_bins, 8.6, 0.0f, n_peaks, 2, 1e12, NULL,
                                    nb_sym, count_sym);
    int b = st_repet_sim_neighbours(unit, n_frames, n_bins, 8.6, 0.0f, n_peaks, 2, 0, NULL, nb_rows,
                                    count_rows);
    int64_t differ = frames_differ(nb_sym, count_sym, nb_rows, count_rows, n_frames, width);
    CHECK("repet_sim neighbours: the symmetric path picks as the path by whole rows",
          a == 0 && b == 0 && differ <= n_frames / 100, "status %d %d, %lld of %lld frames differ",
          a, b, (long long)differ, (long long)n_frames);
    /* the triangle in lent memory (two stretches that hold part of it: its
     * blocks of 256 rows are 179 200, 113 664 and 35 344 floats) and the rest
     * allocated: the same picks, to the bit */
    const size_t lent[2] = {120000, 40000};
    float *spare_memory = malloc((lent[0] + lent[1]) * sizeof *spare_memory);
    st_repet_spare spare = {{spare_memory, spare_memory + lent[0]}, {lent[0], lent[1]}};
    int c = spare_memory ? st_repet_sim_neighbours(unit, n_frames, n_bins, 8.6, 0.0f, n_peaks, 2,
                                                   1e12, &spare, nb_rows, count_rows)
                         : -1;
    int64_t moved = frames_differ(nb_sym, count_sym, nb_rows, count_rows, n_frames, width);
    CHECK("repet_sim neighbours: the triangle in lent memory picks the same frames",
          c == 0 && moved == 0, "status %d, %lld frames differ", c, (long long)moved);
    free(spare_memory);
    int full = 0;
    for (int64_t t = 0; t < n_frames; t++)
        full += count_sym[t] == width;
    CHECK("repet_sim neighbours: frames find their repetitions", full > n_frames / 2,
          "%d of %lld frames have %d", full, (long long)n_frames, width);
    free(unit);
    free(nb_sym);
    free(nb_rows);
    free(count_sym);
    free(count_rows);
}
