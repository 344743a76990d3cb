/* nmf_group: NMF components grouped into sources, and a Wiener mask per
 * source from the grouped models. Blind (timbre, activation, joint) or, for
 * evaluation only, by the references (oracle). */
#include "../vm/node.h"
#include "dsp/nmf.h"
#include "dsp/nmf_cluster.h"
#include "dsp/nndsvd.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const st_param params[] = {
    {"sources", ST_P_INT, .def = 2, .min = 1, .max = 256, .doc = "number of sources"},
    {"method", ST_P_STRING, .def_str = "joint",
     .choices = "timbre|activation|joint|oracle|soft|none",
     .doc = "timbre: k-means on the templates' MFCCs (nussl's timbre clustering); activation: "
            "k-means on the smoothed activations (correlation over time); joint: both features "
            "side by side; oracle: by the reference magnitudes given after the model (evaluation "
            "only); soft: a rank-`sources` KL NMF of the components' mel spectra and activation "
            "envelopes, each component shared among the sources by its weights; none: each "
            "component is its own source (sources = rank)"},
    {"power", ST_P_NUMBER, .def = 1, .min = 0.01, .max = 100,
     .doc = "mask_s = V_s^p / sum_j V_j^p, V_s the model of source s"},
    {"smooth", ST_P_INT, .def = 43, .min = 1, .max = 100000,
     .doc = "activation features: moving-average length in frames (43 = 0.5 s at hop 512, "
            "44.1 kHz)"},
    {"n_mfcc", ST_P_INT, .def = 13, .min = 1, .max = 64,
     .doc = "timbre features: MFCCs 1..n_mfcc of each template"},
    {"rate", ST_P_NUMBER, .def = 44100, .min = 1000, .max = 1e6,
     .doc = "sample rate of the spectrogram (for the mel scale)"},
    {"descriptors", ST_P_NUMBER, .def = 0, .min = 0, .max = 100,
     .doc = "timbre and joint: weight of three descriptors (spectral flatness, centroid, "
            "activation transience) beside the MFCCs"},
    {"weight", ST_P_NUMBER, .def = 1, .min = 0, .max = 100,
     .doc = "joint: weight of the activation features against the timbre features"},
    {"timbre", ST_P_STRING, .def_str = "mfcc", .choices = "mfcc|shift",
     .doc = "timbre and joint: how templates are compared: MFCCs (nussl), or shift: 1 - the best "
            "cosine of two templates on a log-frequency axis over pitch shifts of up to `shift` "
            "semitones (notes of one instrument are shifts of one another)"},
    {"shift", ST_P_INT, .def = 24, .min = 0, .max = 96,
     .doc = "timbre = \"shift\": the largest pitch shift compared, in semitones"},
    {"weighting", ST_P_STRING, .def_str = "none", .choices = "none|energy",
     .doc = "timbre, activation, joint: how much each component counts in k-means: equally, or "
            "by the energy of its model |W_k|^2 |H_k|^2 (a loud component put in the wrong source "
            "costs more than a faint one)"},
    {"seed", ST_P_INT, .def = 0, .min = 0, .max = 2147483647, .doc = "seed of k-means' starts"},
    {NULL}};

/* Columns scaled to unit variance over the components (MFCCs differ in range). */
static void standardise(double *x, int n, int dim)
{
    for (int d = 0; d < dim; d++) {
        double mean = 0, var = 0;
        for (int i = 0; i < n; i++)
            mean += x[(size_t)i * dim + d];
        mean /= n;
        for (int i = 0; i < n; i++)
            var += (x[(size_t)i * dim + d] - mean) * (x[(size_t)i * dim + d] - mean);
        double scale = var > 0 ? 1 / sqrt(var / n) : 0;
        for (int i = 0; i < n; i++)
            x[(size_t)i * dim + d] = (x[(size_t)i * dim + d] - mean) * scale;
    }
}

/* The model of the components in `members` (n_cols x n_bins, row-major). */
static void model_of(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                     const int *members, int n_members, float *w_sub, float *h_sub, float *out)
{
    for (int m = 0; m < n_members; m++) {
        memcpy(w_sub + (size_t)m * n_bins, W + (size_t)members[m] * n_bins, sizeof(float) * n_bins);
        for (int64_t j = 0; j < n_cols; j++)
            h_sub[(size_t)j * n_members + m] = H[(size_t)j * rank + members[m]];
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n_cols, n_bins, n_members, 1.0f,
                h_sub, n_members, w_sub, n_bins, 0.0f, out, n_bins);
}

/* Oracle: each component goes to the source whose ideal ratio mask holds
 * most of its model's energy. */
static int oracle_groups(st_ctx *ctx, st_value *const *refs, int n_refs, const float *W,
                         const float *H, int rank, int n_bins, int64_t n_cols, int *group)
{
    const size_t n = (size_t)n_cols * n_bins;
    for (int j = 0; j < n_refs; j++)
        if (refs[j]->type != ST_ARRAY || (size_t)refs[j]->u.array.n_elems != n)
            return st_fail(ctx,
                           "reference %d must be a magnitude array of %zu entries, as the "
                           "model (%lld frames x %d bins)",
                           j + 1, n, (long long)n_cols, n_bins);
    float *model = malloc(sizeof(float) * n), *w1 = malloc(sizeof(float) * n_bins);
    float *h1 = malloc(sizeof(float) * (size_t)n_cols);
    double *share = calloc((size_t)rank * n_refs, sizeof(double));
    if (!model || !w1 || !h1 || !share) {
        free(model), free(w1), free(h1), free(share);
        return st_fail(ctx, "out of memory");
    }
    for (int k = 0; k < rank; k++) {
        model_of(W, H, rank, n_bins, n_cols, &k, 1, w1, h1, model);
        for (size_t i = 0; i < n; i++) {
            double total = 0;
            for (int j = 0; j < n_refs; j++)
                total += (double)refs[j]->u.array.data[i] * refs[j]->u.array.data[i];
            if (total <= 0) continue;
            for (int j = 0; j < n_refs; j++) {
                double r = refs[j]->u.array.data[i];
                share[(size_t)k * n_refs + j] += model[i] * r * r / total;
            }
        }
        int best = 0;
        for (int j = 1; j < n_refs; j++)
            if (share[(size_t)k * n_refs + j] > share[(size_t)k * n_refs + best]) best = j;
        group[k] = best;
    }
    free(model), free(w1), free(h1), free(share);
    return ST_OK;
}

/* The energy of each component's model, |W_k|^2 |H_k|^2. */
static void component_energy(const float *W, const float *H, int rank, int n_bins, int64_t n_cols,
                             double *energy)
{
    for (int k = 0; k < rank; k++) {
        double sw = 0, sh = 0;
        for (int b = 0; b < n_bins; b++)
            sw += (double)W[(size_t)k * n_bins + b] * W[(size_t)k * n_bins + b];
        for (int64_t j = 0; j < n_cols; j++)
            sh += (double)H[(size_t)j * rank + k] * H[(size_t)j * rank + k];
        energy[k] = sw * sh;
    }
}

static int blind_groups(st_ctx *ctx, const st_params *p, const float *W, const float *H, int rank,
                        int n_bins, int64_t n_cols, int n_sources, int *group)
{
    const int method = st_choice(p, "method"); /* 0 timbre, 1 activation, 2 joint */
    const int shift = method != 1 && st_choice(p, "timbre") == 1;
    const int n_mfcc = method != 1 && !shift ? st_int(p, "n_mfcc") : 0;
    const int64_t n_act = method != 0 ? n_cols : 0;
    const int n_desc = method != 1 && st_num(p, "descriptors") > 0 ? 3 : 0;
    const int64_t dim = n_mfcc + n_desc + n_act;
    const uint64_t seed = (uint64_t)st_int(p, "seed");
    double desc[3 * 1024];
    double *timbre = malloc(sizeof(double) * (size_t)rank * (n_mfcc ? n_mfcc : 1));
    double *act = malloc(sizeof(double) * (size_t)rank * (n_act ? n_act : 1));
    double *x = malloc(sizeof(double) * (size_t)rank * (dim ? dim : 1));
    double *d2 = malloc(sizeof(double) * (size_t)rank * rank);
    double *d2_shift = malloc(sizeof(double) * (size_t)rank * rank);
    double *embedded = malloc(sizeof(double) * (size_t)rank * rank);
    double *energy = malloc(sizeof(double) * rank);
    if (!timbre || !act || !x || !d2 || !d2_shift || !embedded || !energy) {
        free(timbre), free(act), free(x), free(d2), free(d2_shift), free(embedded), free(energy);
        return st_fail(ctx, "out of memory");
    }
    if (n_mfcc) {
        st_template_mfcc(W, rank, n_bins, st_num(p, "rate"), n_mfcc, timbre);
        standardise(timbre, rank, n_mfcc);
    }
    if (n_act) st_activation_features(H, rank, n_cols, st_int(p, "smooth"), act);
    if (n_desc) {
        st_component_descriptors(W, H, rank, n_bins, n_cols, desc);
        standardise(desc, rank, 3);
    }
    const double d_weight = n_desc ? st_num(p, "descriptors") / sqrt(3.0) : 0;
    /* joint: both kinds of distance on one footing: the timbre part scaled to
     * unit norm per component on average, like the activation part */
    const double a_weight = method == 2 ? st_num(p, "weight") : 1;
    const double t_weight = n_mfcc ? 1 / sqrt((double)n_mfcc) : 0;
    for (int k = 0; k < rank; k++) {
        for (int d = 0; d < n_mfcc; d++)
            x[(size_t)k * dim + d] = timbre[(size_t)k * n_mfcc + d] * t_weight;
        for (int d = 0; d < n_desc; d++)
            x[(size_t)k * dim + n_mfcc + d] = desc[k * 3 + d] * d_weight;
        for (int64_t j = 0; j < n_act; j++)
            x[(size_t)k * dim + n_mfcc + n_desc + j] = act[(size_t)k * n_act + j] * a_weight;
    }
    const double *weight = NULL;
    if (st_choice(p, "weighting") == 1) {
        component_energy(W, H, rank, n_bins, n_cols, energy);
        weight = energy;
    }
    int status;
    if (shift) {
        /* the pitch-blind distances are not Euclidean in any features: they are
         * added (as 2 (1 - cosine), on the footing of the activation part's
         * 2 (1 - correlation)) to the others' squared distances, and k-means runs
         * on points placed at those distances */
        st_squared_distances(x, rank, (int)dim, d2);
        status = st_shift_distances(W, rank, n_bins, st_num(p, "rate"), 2 * st_int(p, "shift"),
                                    d2_shift);
        for (size_t i = 0; status == 0 && i < (size_t)rank * rank; i++)
            d2[i] += 2 * d2_shift[i];
        if (status == 0) status = st_embed_distances(d2, rank, embedded);
        if (status == 0)
            status = st_kmeans_weighted(embedded, weight, rank, rank, n_sources, 20, seed, group);
    } else
        status = st_kmeans_weighted(x, weight, rank, (int)dim, n_sources, 20, seed, group);
    free(timbre), free(act), free(x), free(d2), free(d2_shift), free(embedded), free(energy);
    return status == -2 ? st_fail(ctx, "the eigensolver failed on the component distances")
           : status     ? st_fail(ctx, "out of memory")
                        : ST_OK;
}

/* Soft: the components' non-negative features (columns) factorised with
 * rank = sources; a component's share of source s is its weight on s over
 * its weights' sum. share: rank x n_sources. */
static int soft_groups(st_ctx *ctx, const st_params *p, const float *W, const float *H, int rank,
                       int n_bins, int64_t n_cols, int n_sources, float *share)
{
    const int n_mels = 64, smooth = st_int(p, "smooth");
    const int64_t n_feat = st_soft_features_size(n_mels, n_cols, smooth);
    float *x = malloc(sizeof(float) * (size_t)n_feat * rank);
    float *a = malloc(sizeof(float) * (size_t)n_feat * n_sources);
    float *b = malloc(sizeof(float) * (size_t)n_sources * rank);
    int status = x && a && b ? ST_OK : st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        st_soft_features(W, H, rank, n_bins, n_cols, st_num(p, "rate"), n_mels, smooth,
                         st_num(p, "weight"), x);
        for (int64_t i = 0; i < n_feat * rank; i++)
            x[i] += 1e-9f; /* KL wants no exact zeros where the model may vanish */
        if (st_nndsvd(x, (int)n_feat, rank, n_sources, ST_NNDSVDA, (uint64_t)st_int(p, "seed"), 1,
                      a, b))
            status = st_fail(ctx, "the SVD of the component features failed");
    }
    st_nmf_result r = {0};
    st_nmf_options o = {
        .beta = 1, .max_iter = 500, .tol = 1e-6, .update_W = 1, .update_H = 1, .n_threads = 1};
    if (status == ST_OK && st_nmf_fit(x, (int)n_feat, rank, a, b, n_sources, &o, &r))
        status = st_fail(ctx, "out of memory");
    for (int k = 0; status == ST_OK && k < rank; k++) {
        double total = 0;
        for (int s = 0; s < n_sources; s++)
            total += b[(size_t)k * n_sources + s];
        for (int s = 0; s < n_sources; s++)
            share[(size_t)k * n_sources + s] =
                total > 0 ? (float)(b[(size_t)k * n_sources + s] / total) : 1.0f / n_sources;
    }
    free(r.curve), free(r.curve_iter), free(x), free(a), free(b);
    return status;
}

extern const st_node_type st_node_nmf_group;

static int nmf_group_run(st_ctx *ctx, st_value *const *in, int n_in, const st_params *p,
                         st_value **out)
{
    const st_value *fw = st_record_get(in[0], "W"), *fh = st_record_get(in[0], "H");
    if (!fw || !fh || fw->type != ST_ARRAY || fh->type != ST_ARRAY)
        return st_fail(ctx, "the first input must be an nmf result (a record with W and H)");
    const st_array *wa = &fw->u.array, *ha = &fh->u.array;
    const int rank = (int)wa->shape[0], n_bins = (int)wa->shape[1];
    const int64_t n_cols = ha->n_elems / rank;
    const int n_channels = ha->n_axes == 3 ? (int)ha->shape[0] : 1;
    const int64_t n_frames = n_cols / n_channels;
    const int n_sources = st_int(p, "sources"), oracle = st_choice(p, "method") == 3;
    if (oracle && n_in - 1 != n_sources)
        return st_fail(ctx,
                       "method = \"oracle\" needs the %d reference magnitudes after the model, "
                       "got %d",
                       n_sources, n_in - 1);
    if (!oracle && n_in > 1)
        return st_fail(ctx, "references are for method = \"oracle\" only (method = \"%s\")",
                       st_str(p, "method"));
    if (n_sources > rank)
        return st_fail(ctx, "sources = %d: the model has only %d components", n_sources, rank);

    const int soft = st_choice(p, "method") == 4, none = st_choice(p, "method") == 5;
    if (none && n_sources != rank)
        return st_fail(ctx, "method = \"none\" needs sources = rank = %d (sources = %d)", rank,
                       n_sources);
    int *group = malloc(sizeof(int) * rank);
    float *share = calloc((size_t)rank * n_sources, sizeof(float));
    if (!group || !share) {
        free(group), free(share);
        return st_fail(ctx, "out of memory");
    }
    int status =
        oracle
            ? oracle_groups(ctx, in + 1, n_in - 1, wa->data, ha->data, rank, n_bins, n_cols, group)
        : none ? ST_OK
        : soft ? soft_groups(ctx, p, wa->data, ha->data, rank, n_bins, n_cols, n_sources, share)
               : blind_groups(ctx, p, wa->data, ha->data, rank, n_bins, n_cols, n_sources, group);
    for (int k = 0; status == ST_OK && k < rank; k++) {
        if (soft) { /* the source a component leans to most */
            group[k] = 0;
            for (int s = 1; s < n_sources; s++)
                if (share[(size_t)k * n_sources + s] > share[(size_t)k * n_sources + group[k]])
                    group[k] = s;
        } else {
            if (none) group[k] = k;
            share[(size_t)k * n_sources + group[k]] = 1;
        }
    }
    int64_t shape[4] = {n_sources, n_channels, n_frames, n_bins}, gshape[1] = {rank};
    static const char *const axes[] = {"mask", "channel", "time", "freq"}, *gaxes[] = {"rank"};
    st_value *masks = status == ST_OK ? st_array_new(4, shape, axes) : NULL;
    st_value *groups = status == ST_OK ? st_array_new(1, gshape, gaxes) : NULL;
    const size_t n = (size_t)n_cols * n_bins;
    float *h_share = malloc(sizeof(float) * (size_t)rank * n_cols);
    if (status == ST_OK && (!masks || !groups || !h_share)) status = st_fail(ctx, "out of memory");
    if (status == ST_OK) {
        /* the models V_s = sum_k share(k, s) W_k H_k, then masks V_s^p / sum_j V_j^p
         * taken on V / max_j V_j so that no power overflows (1/K where all are zero) */
        const float power = (float)st_num(p, "power");
        float *m = masks->u.array.data;
        for (int s = 0; s < n_sources; s++) {
            for (int64_t j = 0; j < n_cols; j++)
                for (int k = 0; k < rank; k++)
                    h_share[(size_t)j * rank + k] =
                        ha->data[(size_t)j * rank + k] * share[(size_t)k * n_sources + s];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n_cols, n_bins, rank, 1.0f,
                        h_share, rank, wa->data, n_bins, 0.0f, m + (size_t)s * n, n_bins);
        }
        for (size_t i = 0; i < n; i++) {
            float top = 0;
            double total = 0;
            for (int s = 0; s < n_sources; s++)
                top = fmaxf(top, m[(size_t)s * n + i]);
            for (int s = 0; s < n_sources; s++) {
                float u = top > FLT_MIN ? m[(size_t)s * n + i] / top : 1.0f;
                m[(size_t)s * n + i] = power != 1 ? powf(u, power) : u;
                total += m[(size_t)s * n + i];
            }
            for (int s = 0; s < n_sources; s++)
                m[(size_t)s * n + i] = (float)(m[(size_t)s * n + i] / total);
        }
        for (int k = 0; k < rank; k++)
            groups->u.array.data[k] = (float)(group[k] + 1);
        st_value *fields[2] = {masks, groups};
        if (!(*out = st_record_of_outputs(&st_node_nmf_group, fields)))
            status = st_fail(ctx, "out of memory");
    }
    free(group), free(share), free(h_share);
    st_value_unref(masks), st_value_unref(groups);
    return status;
}

const st_node_type st_node_nmf_group = {
    .name = "nmf_group",
    .doc = "Group the components of an nmf result into sources and make a Wiener mask per source "
           "from the grouped models (masks sum to one). Blind: k-means on the templates' MFCCs "
           "or pitch-blind log-frequency shapes (timbre), on the smoothed activations "
           "(activation: correlation over time), or on both (joint); oracle: each component to the "
           "source whose ideal ratio mask holds most "
           "of its energy, from the reference magnitudes given after the model (for evaluation "
           "only). Gives masks (mask, channel, time, freq), ready for resynth, and groups: the "
           "source (from 1) of each component.",
    .inputs = (const st_port[]){{"in", ST_ANY}, {NULL}},
    .outputs = (const st_port[]){{"masks", ST_ARRAY}, {"groups", ST_ARRAY}, {NULL}},
    .params = params,
    /* 2: soft grouping on the vectorised NMF passes; 3: timbre = "shift", weighting;
     * 4: shift distances on blurred templates; 5: KL up to rank 16 by the fused
     * AVX-512 pass (last digits differ) */
    .version = 5,
    .variadic = 1,
    .run = nmf_group_run,
};
