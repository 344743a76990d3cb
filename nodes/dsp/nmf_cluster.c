#include "nmf_cluster.h"

#include "lapack.h"
#include "rng.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_MELS 128

/* Slaney's mel scale (librosa's default, htk=False): linear to 1 kHz, then logarithmic. */
static double hz_to_mel(double hz)
{
    const double f_sp = 200.0 / 3, min_log_hz = 1000, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27;
    return hz < min_log_hz ? hz / f_sp : min_log_mel + log(hz / min_log_hz) / logstep;
}

static double mel_to_hz(double mel)
{
    const double f_sp = 200.0 / 3, min_log_hz = 1000, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27;
    return mel < min_log_mel ? mel * f_sp : min_log_hz * exp(logstep * (mel - min_log_mel));
}

void st_template_mfcc(const float *W, int rank, int n_bins, double rate_hz, int n_mfcc, double *out)
{
    double edges[N_MELS + 2], mel_energy[N_MELS];
    const double top = hz_to_mel(rate_hz / 2);
    for (int i = 0; i < N_MELS + 2; i++)
        edges[i] = mel_to_hz(top * i / (N_MELS + 1));
    for (int k = 0; k < rank; k++) {
        const float *w = W + (size_t)k * n_bins;
        double total = 0, peak_db = -INFINITY;
        for (int f = 0; f < n_bins; f++)
            total += w[f];
        if (total <= 0) total = 1;
        for (int m = 0; m < N_MELS; m++) {
            const double lo = edges[m], mid = edges[m + 1], hi = edges[m + 2];
            const double norm = 2.0 / (hi - lo);
            double e = 0;
            for (int f = 0; f < n_bins; f++) {
                double hz = rate_hz / 2 * f / (n_bins - 1);
                double weight = fmin((hz - lo) / (mid - lo), (hi - hz) / (hi - mid));
                if (weight > 0) {
                    double a = w[f] / total;
                    e += norm * weight * a * a;
                }
            }
            mel_energy[m] = 10 * log10(fmax(e, 1e-10));
            if (mel_energy[m] > peak_db) peak_db = mel_energy[m];
        }
        for (int m = 0; m < N_MELS; m++)
            mel_energy[m] = fmax(mel_energy[m], peak_db - 80);
        for (int c = 1; c <= n_mfcc; c++) {
            double s = 0;
            for (int m = 0; m < N_MELS; m++)
                s += mel_energy[m] * cos(M_PI * c * (2 * m + 1) / (2.0 * N_MELS));
            out[(size_t)k * n_mfcc + c - 1] = s * sqrt(2.0 / N_MELS);
        }
    }
}

void st_component_descriptors(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                              double *out)
{
    for (int k = 0; k < rank; k++) {
        const float *w = W + (size_t)k * n_bins;
        double log_sum = 0, sum = 0, moment = 0, mass = 0;
        for (int b = 0; b < n_bins; b++) {
            double pw = (double)w[b] * w[b];
            log_sum += log(pw + 1e-20);
            sum += pw;
            moment += (double)b * w[b];
            mass += w[b];
        }
        out[(size_t)k * 3] = log_sum / n_bins - log(sum / n_bins + 1e-20);
        out[(size_t)k * 3 + 1] = log2(1 + (mass > 0 ? moment / mass : 0));
        double variation = 0, total = 0;
        for (int64_t j = 0; j < n_cols; j++) {
            double h = H[(size_t)j * rank + k];
            total += h;
            if (j > 0) variation += fabs(h - H[(size_t)(j - 1) * rank + k]);
        }
        out[(size_t)k * 3 + 2] = total > 0 ? variation / total : 0;
    }
}

void st_activation_features(const float *H, int rank, int64_t n_cols, int smooth_frames,
                            double *out)
{
    if (smooth_frames < 1) smooth_frames = 1;
    for (int k = 0; k < rank; k++) {
        double *row = out + (size_t)k * n_cols, mean = 0, window = 0;
        for (int64_t j = 0; j < n_cols; j++)
            mean += H[(size_t)j * rank + k];
        mean = mean / (double)n_cols + DBL_MIN;
        /* a centred moving average (sums of a sliding window) */
        const int half = smooth_frames / 2;
        for (int64_t j = -half; j < n_cols + half; j++) {
            int64_t in = j + half, outgoing = j - half - 1;
            if (in < n_cols) window += H[(size_t)in * rank + k];
            if (outgoing >= 0 && outgoing < n_cols) window -= H[(size_t)outgoing * rank + k];
            if (j >= 0 && j < n_cols) {
                int64_t first = j - half < 0 ? 0 : j - half;
                int64_t last = j + half >= n_cols ? n_cols - 1 : j + half;
                row[j] = log1p(fmax(window, 0) / (double)(last - first + 1) / mean);
            }
        }
        double centre = 0, norm = 0;
        for (int64_t j = 0; j < n_cols; j++)
            centre += row[j];
        centre /= (double)n_cols;
        for (int64_t j = 0; j < n_cols; j++) {
            row[j] -= centre;
            norm += row[j] * row[j];
        }
        norm = norm > 0 ? 1 / sqrt(norm) : 0;
        for (int64_t j = 0; j < n_cols; j++)
            row[j] *= norm;
    }
}

static int64_t envelope_step(int smooth_frames)
{
    return smooth_frames > 2 ? smooth_frames / 2 : 1;
}

int64_t st_soft_features_size(int n_mels, int64_t n_cols, int smooth_frames)
{
    int64_t step = envelope_step(smooth_frames);
    return n_mels + (n_cols + step - 1) / step;
}

void st_soft_features(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                      double rate_hz, int n_mels, int smooth_frames, double weight, float *out)
{
    const int64_t n_feat = st_soft_features_size(n_mels, n_cols, smooth_frames);
    const int64_t step = envelope_step(smooth_frames), half = smooth_frames / 2;
    double *edges = malloc(sizeof(double) * (size_t)(n_mels + 2));
    if (!edges) return;
    const double top = hz_to_mel(rate_hz / 2);
    for (int i = 0; i < n_mels + 2; i++)
        edges[i] = mel_to_hz(top * i / (n_mels + 1));
    for (int k = 0; k < rank; k++) {
        float *f = out + (size_t)k * n_feat;
        const float *w = W + (size_t)k * n_bins;
        double total = 0;
        for (int m = 0; m < n_mels; m++) {
            const double lo = edges[m], mid = edges[m + 1], hi = edges[m + 2];
            double e = 0;
            for (int b = 0; b < n_bins; b++) {
                double hz = rate_hz / 2 * b / (n_bins - 1);
                double weight_b = fmin((hz - lo) / (mid - lo), (hi - hz) / (hi - mid));
                if (weight_b > 0) e += 2.0 / (hi - lo) * weight_b * w[b] * w[b];
            }
            f[m] = (float)e;
            total += e;
        }
        for (int m = 0; m < n_mels; m++)
            f[m] = total > 0 ? (float)(f[m] / total) : 0;
        total = 0;
        for (int64_t j = 0, o = n_mels; j < n_cols; j += step, o++) {
            double s = 0;
            int64_t first = j - half < 0 ? 0 : j - half,
                    last = j + half >= n_cols ? n_cols - 1 : j + half;
            for (int64_t i = first; i <= last; i++)
                s += H[(size_t)i * rank + k];
            f[o] = (float)(s / (double)(last - first + 1));
            total += f[o];
        }
        for (int64_t o = n_mels; o < n_feat; o++)
            f[o] = total > 0 ? (float)(weight * f[o] / total) : 0;
    }
    free(edges);
}

static double dist2(const double *a, const double *b, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++)
        s += (a[d] - b[d]) * (a[d] - b[d]);
    return s;
}

static double uniform(uint64_t *state) { return st_rng_uniform(state); }

/* One k-means run; returns its inertia. */
static double kmeans_once(const double *x, const double *weight, int n, int dim, int k,
                          uint64_t *state, double *centre, double *nearest, int *label, int *count,
                          double *mass)
{
    /* k-means++: each next start drawn with probability proportional to its squared distance */
    int first = n - 1;
    if (weight) { /* the first start drawn in proportion to the weights */
        double total = 0, pick;
        for (int i = 0; i < n; i++)
            total += weight[i];
        pick = uniform(state) * total;
        for (int i = 0; i < n; i++)
            if ((pick -= weight[i]) <= 0) {
                first = i;
                break;
            }
    } else
        first = (int)(uniform(state) * n);
    memcpy(centre, x + (size_t)(first < n ? first : n - 1) * dim, sizeof(double) * dim);
    for (int i = 0; i < n; i++)
        nearest[i] = dist2(x + (size_t)i * dim, centre, dim);
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int i = 0; i < n; i++)
            total += nearest[i] * (weight ? weight[i] : 1);
        double pick = uniform(state) * total;
        int chosen = n - 1;
        for (int i = 0; i < n; i++) {
            pick -= nearest[i] * (weight ? weight[i] : 1);
            if (pick <= 0) {
                chosen = i;
                break;
            }
        }
        memcpy(centre + (size_t)c * dim, x + (size_t)chosen * dim, sizeof(double) * dim);
        for (int i = 0; i < n; i++)
            nearest[i] =
                fmin(nearest[i], dist2(x + (size_t)i * dim, centre + (size_t)c * dim, dim));
    }
    double inertia = INFINITY;
    for (int iter = 0; iter < 300; iter++) {
        int moved = 0;
        inertia = 0;
        for (int i = 0; i < n; i++) {
            int best = 0;
            double bd = INFINITY;
            for (int c = 0; c < k; c++) {
                double d = dist2(x + (size_t)i * dim, centre + (size_t)c * dim, dim);
                if (d < bd) bd = d, best = c;
            }
            moved |= iter == 0 || label[i] != best;
            label[i] = best;
            nearest[i] = bd;
            inertia += bd * (weight ? weight[i] : 1);
        }
        /* an empty cluster takes the point farthest from its own centre */
        memset(count, 0, sizeof(int) * k);
        for (int i = 0; i < n; i++)
            count[label[i]]++;
        for (int c = 0; c < k; c++) {
            if (count[c] > 0) continue;
            int far = -1;
            for (int i = 0; i < n; i++)
                if (count[label[i]] > 1 && (far < 0 || nearest[i] > nearest[far])) far = i;
            if (far < 0) break;
            count[label[far]]--, count[c]++;
            label[far] = c;
            nearest[far] = 0;
            moved = 1;
        }
        if (!moved) break;
        memset(centre, 0, sizeof(double) * k * dim);
        memset(mass, 0, sizeof(double) * k);
        for (int i = 0; i < n; i++) {
            const double w = weight ? weight[i] : 1;
            mass[label[i]] += w;
            for (int d = 0; d < dim; d++)
                centre[(size_t)label[i] * dim + d] += w * x[(size_t)i * dim + d];
        }
        for (int c = 0; c < k; c++)
            for (int d = 0; d < dim; d++)
                centre[(size_t)c * dim + d] /= mass[c] > 0 ? mass[c] : 1;
    }
    return inertia;
}

int st_kmeans(const double *x, int n, int dim, int k, int n_init, uint64_t seed, int *labels)
{
    return st_kmeans_weighted(x, NULL, n, dim, k, n_init, seed, labels);
}

int st_kmeans_weighted(const double *x, const double *weight, int n, int dim, int k, int n_init,
                       uint64_t seed, int *labels)
{
    if (k > n) k = n;
    double *centre = malloc(sizeof(double) * (size_t)k * dim);
    double *nearest = malloc(sizeof(double) * (size_t)n);
    int *label = malloc(sizeof(int) * (size_t)n), *count = malloc(sizeof(int) * (size_t)k);
    double *mass = malloc(sizeof(double) * (size_t)k);
    int status = centre && nearest && label && count && mass ? 0 : -1;
    uint64_t state = st_rng_seed(seed, 2);
    double best = INFINITY;
    for (int run = 0; status == 0 && run < n_init; run++) {
        double inertia =
            kmeans_once(x, weight, n, dim, k, &state, centre, nearest, label, count, mass);
        if (inertia < best) {
            best = inertia;
            memcpy(labels, label, sizeof(int) * (size_t)n);
        }
    }
    free(centre), free(nearest), free(label), free(count), free(mass);
    return status;
}

/* Eigenvectors of the symmetric n x n matrix a (overwritten with them,
 * column j for the j-th smallest eigenvalue w[j]). 0, -1 or -2 as below. */
static int eigen(double *a, int n, double *w)
{
    int lwork = -1, liwork = -1, iwork_query, info;
    double work_query;
    dsyevd_("V", "U", &n, a, &n, w, &work_query, &lwork, &iwork_query, &liwork, &info);
    if (info) return -2;
    lwork = (int)work_query, liwork = iwork_query;
    double *work = malloc(sizeof(double) * lwork);
    int *iwork = malloc(sizeof(int) * liwork);
    int status = work && iwork ? 0 : -1;
    if (status == 0) {
        dsyevd_("V", "U", &n, a, &n, w, work, &lwork, iwork, &liwork, &info);
        if (info) status = -2;
    }
    free(work), free(iwork);
    return status;
}

int st_embed_distances(const double *d2, int n, double *out)
{
    double *b = malloc(sizeof(double) * (size_t)n * n), *w = malloc(sizeof(double) * n);
    double *mean = calloc(n, sizeof(double));
    int status = b && w && mean ? 0 : -1;
    double all = 0;
    for (int i = 0; status == 0 && i < n; i++) {
        for (int j = 0; j < n; j++)
            mean[i] += d2[(size_t)i * n + j] / n;
        all += mean[i] / n;
    }
    /* classical scaling: B = -1/2 J D2 J, coordinates = eigenvectors times sqrt(eigenvalue) */
    for (int i = 0; status == 0 && i < n; i++)
        for (int j = 0; j < n; j++)
            b[(size_t)i * n + j] = -0.5 * (d2[(size_t)i * n + j] - mean[i] - mean[j] + all);
    if (status == 0) status = eigen(b, n, w);
    for (int i = 0; status == 0 && i < n; i++)
        for (int c = 0; c < n; c++)
            out[(size_t)i * n + c] = w[c] > 0 ? b[(size_t)c * n + i] * sqrt(w[c]) : 0;
    free(b), free(w), free(mean);
    return status;
}

void st_squared_distances(const double *x, int n, int dim, double *d2)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            d2[(size_t)i * n + j] = dist2(x + (size_t)i * dim, x + (size_t)j * dim, dim);
}

int st_shift_distances(const float *W, int rank, int n_bins, double rate_hz, int max_shift,
                       double *d2)
{
    /* log-frequency templates: 24 bins per octave from 40 Hz up to 16 kHz, each the
     * linear spectrum interpolated at its centre, blurred along log frequency,
     * compressed (square root) and unit norm. The blur is what makes a transposition
     * line up: a partial is a fixed number of Hz wide, so on the log axis it narrows
     * as the note rises, and an octave up the unblurred peaks miss each other (the
     * blur comes before the compression, which would otherwise widen every peak's
     * skirt and bring other timbres closer too). */
    const int per_octave = 24, radius = 4;
    const double f_lo = 40, f_hi = fmin(16000, rate_hz / 2 * 0.95), sigma = 1.5;
    const int n_log = (int)floor(per_octave * log2(f_hi / f_lo)) + 1;
    double *L = malloc(sizeof(double) * (size_t)rank * n_log);
    double *raw = malloc(sizeof(double) * (size_t)n_log);
    if (!L || !raw) {
        free(L), free(raw);
        return -1;
    }
    double kernel[2 * 4 + 1];
    for (int t = -radius; t <= radius; t++)
        kernel[t + radius] = exp(-0.5 * t * t / (sigma * sigma));
    for (int k = 0; k < rank; k++) {
        const float *w = W + (size_t)k * n_bins;
        for (int m = 0; m < n_log; m++) {
            double pos = f_lo * pow(2, (double)m / per_octave) / (rate_hz / 2) * (n_bins - 1);
            int b = (int)pos;
            double frac = pos - b, v = b + 1 < n_bins ? w[b] * (1 - frac) + w[b + 1] * frac : w[b];
            raw[m] = fmax(v, 0);
        }
        double *l = L + (size_t)k * n_log, norm = 0;
        for (int m = 0; m < n_log; m++) {
            double x = 0;
            for (int t = -radius; t <= radius; t++)
                if (m + t >= 0 && m + t < n_log) x += kernel[t + radius] * raw[m + t];
            l[m] = sqrt(x);
            norm += x;
        }
        norm = norm > 0 ? 1 / sqrt(norm) : 0;
        for (int m = 0; m < n_log; m++)
            l[m] *= norm;
    }
    free(raw);
    /* 1 - the best cosine over shifts of up to max_shift bins either way */
    for (int i = 0; i < rank; i++)
        for (int j = i; j < rank; j++) {
            double best = 0;
            for (int s = -max_shift; s <= max_shift; s++) {
                double c = 0;
                for (int m = s > 0 ? 0 : -s; m < n_log && m + s < n_log; m++)
                    c += L[(size_t)i * n_log + m] * L[(size_t)j * n_log + m + s];
                if (c > best) best = c;
            }
            d2[(size_t)i * rank + j] = d2[(size_t)j * rank + i] = i == j ? 0 : 1 - best;
        }
    free(L);
    return 0;
}
