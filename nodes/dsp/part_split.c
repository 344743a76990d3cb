/* Splitting the parts of a loop model in two (loops' split).
 *
 * A part can stand for two instruments that play in the same slices: a bass
 * note and the chord above it, both following one progression, are one part
 * of the model as long as they change together. The slices where only one
 * of them plays tell them apart: there the part's share of the cube lacks
 * the other, so the part's slices differ along that instrument. The split
 * is NNDSVD's (Boutsidis & Gallopoulos 2008) of the part's share V, without
 * its fill: the leading singular pair, made non-negative, is what the slices
 * hold in common, and the second pair is the direction in which they differ.
 * NNDSVD keeps the sign of the second pair with the larger norms; here it
 * is the sign whose slices hold most of the part's activity, because the
 * instrument that is missing from a few slices plays in addition in the
 * others: the second component starts as those cells in those slices, and
 * the refinement that follows (with every part) frees the first of it. */
#include "part_split.h"

#include "lapack.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

/* The norms of the positive and of the negative entries of v. */
static void signed_norms(const double *v, int64_t n, double *pos, double *neg)
{
    double p = 0, q = 0;
    for (int64_t i = 0; i < n; i++)
        if (v[i] > 0)
            p += v[i] * v[i];
        else
            q += v[i] * v[i];
    *pos = sqrt(p), *neg = sqrt(q);
}

int st_split_parts(const float *x, const float *lt, const float *d, int64_t n_cells, int64_t n_bars,
                   int n, const int *split, int n_out, float *lt2, float *d2, int *twin)
{
    const int nb = (int)n_bars;
    float *model = malloc((size_t)n_cells * n_bars * sizeof *model);
    float *v = malloc((size_t)n_cells * n_bars * sizeof *v);
    float *gram = malloc((size_t)n_bars * n_bars * sizeof *gram);
    double *g = malloc((size_t)n_bars * n_bars * sizeof *g);
    double *w = malloc((size_t)n_bars * sizeof *w);
    double *u = malloc((size_t)n_cells * 2 * sizeof *u);
    double *u2 = malloc((size_t)n_cells * sizeof *u2);
    double *work = NULL;
    int *iwork = NULL;
    int status = model && v && gram && g && w && u && u2 ? 0 : -1;
    int lwork = -1, liwork = -1, info = 0, out = 0;
    if (status == 0) { /* the eigensolver's workspace */
        double work_q;
        int iwork_q;
        dsyevd_("V", "L", &nb, g, &nb, w, &work_q, &lwork, &iwork_q, &liwork, &info);
        lwork = (int)work_q, liwork = iwork_q;
        work = malloc((size_t)lwork * sizeof *work);
        iwork = malloc((size_t)liwork * sizeof *iwork);
        if (info != 0 || !work || !iwork) status = -1;
    }
    if (status == 0) /* the whole model, L D^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n_cells, nb, n, 1, lt, n, d, n, 0,
                    model, nb);
    for (int j = 0; status == 0 && j < n; j++) {
        const int a = out, z = split[j] ? out + 1 : -1;
        out += split[j] ? 2 : 1;
        twin[a] = z;
        if (z >= 0) twin[z] = a;
        if (!split[j]) {
            for (int64_t c = 0; c < n_cells; c++)
                lt2[c * n_out + a] = lt[c * n + j];
            for (int64_t b = 0; b < n_bars; b++)
                d2[b * n_out + a] = d[b * n + j];
            continue;
        }
        /* V: the part's Wiener share of the cube */
        for (int64_t c = 0; c < n_cells; c++)
            for (int64_t b = 0; b < n_bars; b++) {
                const int64_t i = c * n_bars + b;
                v[i] = x[i] * (lt[c * n + j] * d[b * n + j]) / (model[i] + 1e-9f);
            }
        /* its right singular vectors: the slices' Gram matrix's eigenvectors
         * (ascending order: the leading pair last) */
        cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, nb, (int)n_cells, 1, v, nb, 0, gram, nb);
        for (int64_t r = 0; r < n_bars; r++)
            for (int64_t c = r; c < n_bars; c++)
                g[r * n_bars + c] = g[c * n_bars + r] = gram[r * n_bars + c];
        dsyevd_("V", "L", &nb, g, &nb, w, work, &lwork, iwork, &liwork, &info);
        if (info != 0) {
            status = -1;
            break;
        }
        const double *v1 = g + (int64_t)(nb - 1) * nb;
        const double *v2 = nb > 1 ? g + (int64_t)(nb - 2) * nb : v1;
        const double s1 = sqrt(fmax(w[nb - 1], 0)), s2 = nb > 1 ? sqrt(fmax(w[nb - 2], 0)) : 0;
        /* the left ones, u_i = V v_i / s_i */
        for (int64_t c = 0; c < n_cells; c++) {
            double p1 = 0, p2 = 0;
            for (int64_t b = 0; b < n_bars; b++)
                p1 += v[c * n_bars + b] * v1[b], p2 += v[c * n_bars + b] * v2[b];
            u[2 * c] = s1 > 0 ? p1 / s1 : 0;
            u2[c] = s2 > 0 ? p2 / s2 : 0;
        }
        /* the first component: the leading pair (its signs agree) */
        for (int64_t c = 0; c < n_cells; c++)
            lt2[c * n_out + a] = (float)(sqrt(s1) * fabs(u[2 * c]));
        for (int64_t b = 0; b < n_bars; b++)
            d2[b * n_out + a] = (float)(sqrt(s1) * fabs(v1[b]));
        /* the second: the sign of the second pair whose slices hold most of
         * the part's activity */
        double on_pos = 0, on_neg = 0;
        for (int64_t b = 0; b < n_bars; b++)
            if (v2[b] > 0)
                on_pos += d[b * n + j];
            else if (v2[b] < 0)
                on_neg += d[b * n + j];
        const double sign = on_pos >= on_neg ? 1 : -1;
        double up, un, vp, vn;
        signed_norms(u2, n_cells, &up, &un);
        signed_norms(v2, n_bars, &vp, &vn);
        const double nu = sign > 0 ? up : un, nv = sign > 0 ? vp : vn;
        const double scale = nu > 0 && nv > 0 ? sqrt(s2 * nu * nv) : 0;
        for (int64_t c = 0; c < n_cells; c++) {
            const double e = sign * u2[c];
            lt2[c * n_out + z] = e > 0 && scale > 0 ? (float)(scale * e / nu) : 0;
        }
        for (int64_t b = 0; b < n_bars; b++) {
            const double e = sign * v2[b];
            d2[b * n_out + z] = e > 0 && scale > 0 ? (float)(scale * e / nv) : 0;
        }
    }
    free(model), free(v), free(gram), free(g), free(w), free(u), free(u2), free(work), free(iwork);
    return status;
}
