/* st_bar_rank_score (dsp/bar_rank.h), the bar phase test bar_grid uses: on a
 * song of three loops entering and leaving at bar lines, the true bar lines
 * score lowest, also when the bars differ in length (a tempo drift); a
 * fraction of a frame moves the score by little; placements that do not fit
 * are left out; bad slice counts are refused. */
#include "../../nodes/dsp/bar_rank.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>

enum { BARS = 12, BANDS = 6, PARTS = 3 };

/* bar b of part p plays (entries at bar lines: 0, 2 and 5, the second leaves at 9) */
static int plays(int p, int b)
{
    return p == 0 || (p == 1 && b >= 2 && b < 9) || (p == 2 && b >= 5);
}

/* frame t's features: each part's one-bar loop (its own band shape times a
 * pattern over the bar) where it plays; start[b] is bar b's first frame */
static void song(float *y, int64_t n_frames, const int64_t *start)
{
    for (int64_t t = 0; t < n_frames; t++) {
        int b = 0;
        while (b + 1 < BARS && start[b + 1] <= t)
            b++;
        double pos = (double)(t - start[b]) / (double)(start[b + 1] - start[b]); /* in the bar */
        for (int k = 0; k < BANDS; k++) {
            double v = 0;
            for (int p = 0; p < PARTS; p++)
                if (plays(p, b))
                    v += (1 + ((k + 2 * p) % BANDS)) *
                         (0.5 + 0.5 * cos(2 * M_PI * (p + 1) * (pos + 0.1 * p)));
            y[t * BANDS + k] = (float)v;
        }
    }
}

/* the score of the lines start[0..BARS] moved by shift frames */
static double score_at(st_bar_rank *z, const int64_t *start, double shift, int *n_placements)
{
    double line[BARS + 1], s = -1;
    for (int b = 0; b <= BARS; b++)
        line[b] = (double)start[b] + shift;
    if (st_bar_rank_score(z, line, BARS + 1, BARS - 2, &s, NULL, n_placements)) return -1;
    return s;
}

void test_bar_rank(void)
{
    int64_t start[BARS + 1], steady[BARS + 1];
    for (int b = 0; b <= BARS; b++) {
        steady[b] = 64 * b;
        start[b] = (int64_t)llround(64 * b + 1.5 * b * b); /* bars from 65 to 97 frames */
    }
    for (int drift = 0; drift < 2; drift++) {
        const int64_t *s = drift ? start : steady, n_frames = s[BARS];
        float *y = malloc((size_t)n_frames * BANDS * sizeof *y);
        if (y) song(y, n_frames, s);
        st_bar_rank *z = y ? st_bar_rank_create(y, n_frames, BANDS, BARS - 2) : NULL;
        if (!z) {
            CHECK("bar rank: created", 0, "out of memory");
            free(y);
            return;
        }
        int placements = 0;
        double truth = score_at(z, s, 0, &placements), worst_wrong = 1e9;
        for (int q = 1; q < 4; q++) { /* a quarter, half, three quarters of the first bar late */
            double wrong = score_at(z, s, q * 16.0, NULL);
            if (wrong < worst_wrong) worst_wrong = wrong;
        }
        CHECK(drift ? "bar rank: bars of changing length, the true lines score lowest"
                    : "bar rank: the true bar lines score lowest",
              truth > 0 && placements == 2 && truth < worst_wrong,
              "true %.4f, best wrong %.4f, %d placements", truth, worst_wrong, placements);
        double nudged = score_at(z, s, 0.1, NULL);
        CHECK("bar rank: a tenth of a frame moves the score by little",
              fabs(nudged - truth) < 0.1 * (worst_wrong - truth), "%.6f against %.6f", nudged,
              truth);
        st_bar_rank_destroy(z);
        free(y);
    }

    /* placements that do not fit the song are left out; bad counts are refused */
    float flat[100 * 2];
    for (int i = 0; i < 200; i++)
        flat[i] = 1.0f + (float)(i % 7);
    st_bar_rank *z = st_bar_rank_create(flat, 100, 2, 4);
    double line[6] = {0, 20, 40, 60, 80, 110}, s = -1;
    int n = -1;
    int one = z && st_bar_rank_score(z, line, 6, 4, &s, NULL, &n) == 0 && n == 1 && s > 0;
    line[4] = 105;
    int none = z && st_bar_rank_score(z, line, 6, 4, &s, NULL, &n) == 0 && n == 0 && s == 0;
    CHECK("bar rank: placements beyond the song are left out", one && none, "%d placements", n);
    CHECK("bar rank: 1 slice or more than made for is refused",
          z && st_bar_rank_score(z, line, 6, 1, &s, NULL, &n) != 0 &&
              st_bar_rank_score(z, line, 6, 5, &s, NULL, &n) != 0,
          "accepted");
    CHECK("bar rank: fewer than 2 slices cannot be made for", !st_bar_rank_create(flat, 100, 2, 1),
          "made");
    st_bar_rank_destroy(z);
}
