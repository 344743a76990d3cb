/* st_loop_parts and st_group_by_sound on small models whose answer is known:
 * a model of bar recipes (one loop type per combination of parts) comes back
 * as its parts; types that take turns with one sound, or that always play
 * together with one sound, are joined before types that partly overlap. And
 * st_split_parts: a part that is two instruments (one missing from some
 * slices) starts its second half as the one that is missing; st_harmonic_share
 * tells a pitched template from a percussive one. */
#include "../../nodes/dsp/loop_groups.h"
#include "../../nodes/dsp/loop_parts.h"
#include "../../nodes/dsp/part_split.h"
#include "../../nodes/dsp/sound_groups.h"
#include "check.h"

#include <math.h>

enum { N_COLS = 12, N_PARTS = 4, N_SLICES = 8 };

static const double planted[N_PARTS][N_COLS] = {
    {3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0},
    {0, 1, 3, 2, 1, 0, 0, 0, 0, 0, 0, 0},
    {0, 0, 0, 0, 1, 3, 2, 1, 0, 0, 0, 1},
    {1, 0, 0, 0, 0, 0, 0, 1, 3, 2, 1, 0},
};
/* which parts play in each slice: eight different combinations */
static const int plays[N_SLICES][N_PARTS] = {{1, 0, 0, 0}, {1, 1, 0, 0}, {1, 1, 1, 0},
                                             {0, 1, 1, 1}, {0, 0, 1, 1}, {1, 0, 0, 1},
                                             {0, 1, 0, 1}, {1, 0, 1, 0}};

static double cosine(const double *a, const float *b, int stride, int n)
{
    double ab = 0, aa = 0, bb = 0;
    for (int i = 0; i < n; i++)
        ab += a[i] * b[i * stride], aa += a[i] * a[i], bb += (double)b[i * stride] * b[i * stride];
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : 0;
}

static void test_parts(void)
{
    /* the recipe model: each slice's whole mixture is one loop type, at twice its level, played
     * at half; slice b is type 3b mod 8 (so the layout is not the identity) */
    float core[N_COLS * N_SLICES], layout[N_SLICES * N_SLICES];
    for (int c = 0; c < N_COLS; c++)
        for (int s = 0; s < N_SLICES; s++) {
            const int b = 3 * s % N_SLICES; /* 3 x 3 = 1 mod 8: type s is slice 3s's */
            double sum = 0;
            for (int j = 0; j < N_PARTS; j++)
                sum += plays[b][j] * planted[j][c];
            core[c * N_SLICES + s] = (float)(2 * sum);
        }
    for (int b = 0; b < N_SLICES; b++)
        for (int s = 0; s < N_SLICES; s++)
            layout[b * N_SLICES + s] = s == 3 * b % N_SLICES ? 0.5f : 0.0f;
    float parts_core[N_COLS * N_PARTS], parts_layout[N_SLICES * N_PARTS];
    int status = st_loop_parts(core, layout, N_COLS, N_SLICES, N_SLICES, N_PARTS, 0.01, 10, 3000,
                               parts_core, parts_layout);
    /* each planted part is one found part (cosine near 1), played where it plays */
    double worst_cosine = 1, worst_activation = 0;
    int matched = 0;
    for (int j = 0; j < N_PARTS; j++) {
        int best = -1;
        double top = -1;
        for (int f = 0; f < N_PARTS; f++) {
            const double c = cosine(planted[j], parts_core + f, N_PARTS, N_COLS);
            if (c > top) top = c, best = f;
        }
        matched |= 1 << best;
        worst_cosine = fmin(worst_cosine, top);
        double peak = 0;
        for (int b = 0; b < N_SLICES; b++)
            peak = fmax(peak, parts_layout[b * N_PARTS + best]);
        for (int b = 0; b < N_SLICES; b++)
            worst_activation =
                fmax(worst_activation, fabs(parts_layout[b * N_PARTS + best] / peak - plays[b][j]));
    }
    CHECK("parts: a model of bar recipes comes back as its parts",
          status == 0 && matched == (1 << N_PARTS) - 1 && worst_cosine > 0.99,
          "status %d, matched %x, worst cosine %.4f", status, matched, worst_cosine);
    CHECK("parts: each part plays in the slices it was planted in", worst_activation < 0.1,
          "largest activation error %.3f", worst_activation);
}

/* templates of n_bins x 1 cells; low sounds at bins 2..5, high at 30..60 */
enum { N_BINS = 64, N_BARS = 8 };

static void fill_sound(float *lt, int rank, int k, int low)
{
    for (int f = 0; f < N_BINS; f++) {
        const int on = low ? f >= 2 && f <= 5 : f >= 30 && f <= 60;
        lt[f * rank + k] = on ? 1.0f + 0.1f * (f % 3) : 0.0f;
    }
}

/* templates of n_bins x 2 cells (two halves of the bar): a low sound in one half */
static void fill_halves(float *lt, int rank, int k, int half)
{
    for (int f = 0; f < N_BINS; f++)
        for (int t = 0; t < 2; t++) {
            const int on = f >= 2 && f <= 5 && t == half;
            lt[(f * 2 + t) * rank + k] = on ? 1.0f + 0.1f * (f % 3) : 0.0f;
        }
}

static void test_sound(void)
{
    /* 0, 1: low, take turns (bars 0-3, 4-7); 2, 3: high, always together, 3 at twice 2's level */
    float lt[N_BINS * 4], d[N_BARS * 4];
    for (int k = 0; k < 4; k++)
        fill_sound(lt, 4, k, k < 2);
    for (int b = 0; b < N_BARS; b++) {
        d[b * 4 + 0] = b < 4, d[b * 4 + 1] = b >= 4;
        d[b * 4 + 2] = b % 2 == 0, d[b * 4 + 3] = 2.0f * (b % 2 == 0);
    }
    int group[4];
    int n = st_group_by_sound(lt, d, N_BINS, 1, N_BARS, 4, 0, 0.6, group);
    CHECK("sound grouping joins one sound's turns, and one sound split in two",
          n == 2 && group[0] == group[1] && group[2] == group[3] && group[0] != group[2],
          "n %d, groups %d %d %d %d", n, group[0], group[1], group[2], group[3]);
    /* three low types of two cells a bar (the bar's two halves): 0 in bars 0-3, 1 in
     * bars 4-7, 2 in bars 2-5 (half with each); 2 in the other half of the bar */
    float lt3[N_BINS * 2 * 3], d3[N_BARS * 3];
    fill_halves(lt3, 3, 0, 0), fill_halves(lt3, 3, 1, 0), fill_halves(lt3, 3, 2, 1);
    for (int b = 0; b < N_BARS; b++)
        d3[b * 3 + 0] = b < 4, d3[b * 3 + 1] = b >= 4, d3[b * 3 + 2] = b >= 2 && b <= 5;
    n = st_group_by_sound(lt3, d3, N_BINS, 2, N_BARS, 3, 0, 0.6, group);
    CHECK(
        "sound grouping keeps apart a type that plays partly with the others, elsewhere in the bar",
        n == 2 && group[0] == group[1] && group[2] != group[0], "n %d, groups %d %d %d", n,
        group[0], group[1], group[2]);
    /* the same, 2 in the same cells as 0 and 1 at a level of its own each bar: one sound the
     * model split (while they sound at once, only the cells they hold could tell them apart) */
    fill_halves(lt3, 3, 2, 0);
    for (int b = 0; b < N_BARS; b++)
        d3[b * 3 + 2] = b >= 2 && b <= 5 ? 0.2f + 0.2f * (b % 3) : 0.0f;
    n = st_group_by_sound(lt3, d3, N_BINS, 2, N_BARS, 3, 0, 0.6, group);
    CHECK("sound grouping joins a type that plays with the others in the same cells", n == 1,
          "n %d, groups %d %d %d", n, group[0], group[1], group[2]);
    /* low and high taking turns: no band in common */
    float lt2[N_BINS * 2], d2[N_BARS * 2];
    fill_sound(lt2, 2, 0, 1), fill_sound(lt2, 2, 1, 0);
    for (int b = 0; b < N_BARS; b++)
        d2[b * 2 + 0] = b < 4, d2[b * 2 + 1] = b >= 4;
    n = st_group_by_sound(lt2, d2, N_BINS, 1, N_BARS, 2, 0, 0.6, group);
    CHECK("sound grouping does not join two sounds that take turns", n == 2, "n %d", n);
}

/* A part that is two instruments: a low one (bins 2..5) in every slice and a
 * high one (bins 30..60) in all but slices 2 and 5, as one part of the model
 * (its template the sum, at half its level where only the low one plays).
 * The split's second half starts as the high instrument, in the slices where
 * it plays: what the part's slices differ by. */
static void test_split(void)
{
    enum { N_TIME = 4, N_CELLS = N_BINS * N_TIME, N_SLICES_SPLIT = 8 };
    float x[N_CELLS * N_SLICES_SPLIT], lt[N_CELLS], d[N_SLICES_SPLIT];
    float lt2[N_CELLS * 2], d2[N_SLICES_SPLIT * 2];
    double high[N_CELLS];
    for (int f = 0; f < N_BINS; f++)
        for (int t = 0; t < N_TIME; t++) {
            const int c = f * N_TIME + t;
            const double lo = f >= 2 && f <= 5 ? 2.0 + (f + t) % 3 : 0;
            const double hi = f >= 30 && f <= 60 ? 1.0 + 0.5 * ((f * 7 + t) % 4) : 0;
            high[c] = hi;
            lt[c] = (float)(lo + hi);
            for (int b = 0; b < N_SLICES_SPLIT; b++)
                x[c * N_SLICES_SPLIT + b] = (float)(lo + (b == 2 || b == 5 ? 0 : hi));
        }
    for (int b = 0; b < N_SLICES_SPLIT; b++)
        d[b] = b == 2 || b == 5 ? 0.5f : 1.0f;
    const int split[1] = {1};
    int twin[2] = {7, 7};
    int status = st_split_parts(x, lt, d, N_CELLS, N_SLICES_SPLIT, 1, split, 2, lt2, d2, twin);
    const double c = cosine(high, lt2 + 1, 2, N_CELLS);
    double off = 0, on = 1e9;
    for (int b = 0; b < N_SLICES_SPLIT; b++)
        if (b == 2 || b == 5)
            off = fmax(off, d2[b * 2 + 1]);
        else
            on = fmin(on, d2[b * 2 + 1]);
    CHECK("split: a part's second half starts as the instrument missing from some slices",
          status == 0 && twin[0] == 1 && twin[1] == 0 && c > 0.95 && off == 0 && on > 0,
          "status %d, twins %d %d, cosine with the high sound %.3f, activation where it is "
          "missing %.3f, where it plays at least %.3f",
          status, twin[0], twin[1], c, off, on);
}

/* Sustained partials are pitched, clicks across the spectrum percussive. */
static void test_harmonic(void)
{
    enum { BINS = 128, TIME = 64 };
    static float lt[BINS * TIME * 2];
    for (int f = 0; f < BINS; f++)
        for (int t = 0; t < TIME; t++) {
            lt[(f * TIME + t) * 2 + 0] = f % 12 == 5 ? 1.0f : 0.01f; /* a note's partials */
            lt[(f * TIME + t) * 2 + 1] = t % 16 == 3 ? 1.0f : 0.01f; /* four clicks */
        }
    const double pitched = st_harmonic_share(lt, BINS, TIME, 2, 0);
    const double clicks = st_harmonic_share(lt, BINS, TIME, 2, 1);
    CHECK("harmonic share: sustained partials above 1/2, clicks below",
          pitched > 0.9 && clicks < 0.1, "partials %.3f, clicks %.3f", pitched, clicks);
}

/* A model with NaN in it gives NaN likenesses: the joining still ends with
 * the groups asked for (it read alike[-rank] once, review6 R7). */
static void test_nan_likeness(void)
{
    enum { RANK = 4 };
    double alike[RANK * RANK];
    int group[RANK], size[RANK];
    for (int i = 0; i < RANK * RANK; i++)
        alike[i] = NAN;
    alike[0 * RANK + 1] = alike[1 * RANK + 0] = 0.9; /* the one pair that is alike */
    int n = st_average_linkage(alike, RANK, 2, 0, group, size);
    CHECK("average linkage: NaN likenesses still give the groups asked for",
          n == 2 && group[0] == group[1], "n %d, groups %d %d %d %d", n, group[0], group[1],
          group[2], group[3]);
    for (int i = 0; i < RANK * RANK; i++)
        alike[i] = NAN;
    n = st_average_linkage(alike, RANK, 1, 0, group, size);
    CHECK("average linkage: all NaN, one group asked for", n == 1, "n %d", n);
}

void test_loop_parts(void)
{
    test_parts();
    test_sound();
    test_split();
    test_harmonic();
    test_nan_likeness();
}
