/* The effective rank of a song's bar slices (bar_rank.h). */
#include "bar_rank.h"
#include "lapack.h"

#include <cblas.h>

#include <math.h>
#include <stdlib.h>

struct st_bar_rank {
    double *cum; /* (n_frames + 1) x n_bands running sums of the features */
    int64_t n_frames;
    int n_bands, max_slices;
    float *c, *g; /* the slices (n_slices x cells), their Gram matrix */
    double *gd, *w, *work;
    int *iwork;
    int lwork, liwork;
};

st_bar_rank *st_bar_rank_create(const float *y, int64_t n_frames, int n_bands, int max_slices)
{
    if (max_slices < 2 || n_frames < 1 || n_bands < 1) return NULL;
    st_bar_rank *z = calloc(1, sizeof *z);
    if (!z) return NULL;
    const size_t cells = (size_t)ST_BAR_RANK_CELLS * n_bands, m = (size_t)max_slices;
    z->n_frames = n_frames;
    z->n_bands = n_bands;
    z->max_slices = max_slices;
    z->lwork = 2 * max_slices + 1; /* dsyevd's need without eigenvectors */
    z->liwork = 1;
    z->cum = calloc((size_t)(n_frames + 1) * n_bands, sizeof *z->cum);
    z->c = malloc(m * cells * sizeof *z->c);
    z->g = malloc(m * m * sizeof *z->g);
    z->gd = malloc(m * m * sizeof *z->gd);
    z->w = malloc(m * sizeof *z->w);
    z->work = malloc((size_t)z->lwork * sizeof *z->work);
    z->iwork = malloc(sizeof *z->iwork);
    if (!z->cum || !z->c || !z->g || !z->gd || !z->w || !z->work || !z->iwork) {
        st_bar_rank_destroy(z);
        return NULL;
    }
    for (int64_t i = 0; i < n_frames * n_bands; i++)
        z->cum[i + n_bands] = z->cum[i] + y[i];
    return z;
}

void st_bar_rank_destroy(st_bar_rank *z)
{
    if (!z) return;
    free(z->cum);
    free(z->c);
    free(z->g);
    free(z->gd);
    free(z->w);
    free(z->work);
    free(z->iwork);
    free(z);
}

/* The sum of band k over frames [0, x) at a fractional frame x (linear
 * within a frame). */
static double sum_to(const st_bar_rank *z, double x, int k)
{
    const int n_bands = z->n_bands;
    if (x <= 0) return 0;
    if (x >= (double)z->n_frames) return z->cum[z->n_frames * n_bands + k];
    int64_t i = (int64_t)floor(x);
    double f = x - (double)i;
    return (1 - f) * z->cum[i * n_bands + k] + f * z->cum[(i + 1) * n_bands + k];
}

/* ||C||_* / ||C||_F of the n_slices slices [line[j], line[j + 1]). */
static int rank_of(st_bar_rank *z, const double *line, int n_slices, double *score)
{
    const int n_bands = z->n_bands;
    const int64_t cells = (int64_t)ST_BAR_RANK_CELLS * n_bands;
    for (int j = 0; j < n_slices; j++) {
        const double length = line[j + 1] - line[j];
        for (int m = 0; m < ST_BAR_RANK_CELLS; m++) {
            double a = line[j] + length * m / ST_BAR_RANK_CELLS, b = a + length / ST_BAR_RANK_CELLS;
            for (int k = 0; k < n_bands; k++)
                z->c[(size_t)j * cells + (size_t)m * n_bands + k] =
                    (float)((sum_to(z, b, k) - sum_to(z, a, k)) / (b - a));
        }
    }
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n_slices, (int)cells, 1.0f, z->c,
                (int)cells, 0.0f, z->g, n_slices);
    for (int i = 0; i < n_slices; i++)
        for (int j = 0; j < n_slices; j++)
            z->gd[(size_t)i * n_slices + j] =
                z->g[(size_t)(i <= j ? i : j) * n_slices + (i <= j ? j : i)];
    int info = 0, nn = n_slices;
    dsyevd_("N", "L", &nn, z->gd, &nn, z->w, z->work, &z->lwork, z->iwork, &z->liwork, &info);
    if (info) return -1;
    double nuclear = 0, frobenius = 0;
    for (int i = 0; i < n_slices; i++) {
        double l = z->w[i] > 0 ? z->w[i] : 0;
        nuclear += sqrt(l);
        frobenius += l;
    }
    *score = frobenius > 0 ? nuclear / sqrt(frobenius) : 0;
    return 0;
}

int st_bar_rank_score(st_bar_rank *z, const double *line, int64_t n_lines, int n_slices,
                      double *score, double each[2], int *n_placements)
{
    if (n_slices < 2 || n_slices > z->max_slices) return -1;
    double sum = 0;
    int count = 0;
    for (int64_t p = 0;
         count < 2 && p + n_slices < n_lines && line[p + n_slices] <= (double)z->n_frames;
         p++, count++) {
        double s = 0;
        if (rank_of(z, line + p, n_slices, &s)) return -1;
        if (each) each[count] = s;
        sum += s;
    }
    *score = count ? sum / count : 0;
    if (n_placements) *n_placements = count;
    return 0;
}
