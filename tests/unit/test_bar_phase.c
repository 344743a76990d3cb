/* st_bar_phase_harmonic_change and st_bar_phase_rotation at their edges: too
 * few beats, a chroma that never changes, a bar of three, a last partial
 * bar, and the rule that the decoder's bar stays unless another scores
 * strictly higher (review6 R4). */
#include "../../nodes/dsp/bar_phase.h"
#include "check.h"

#include <math.h>

enum { BEATS = 10, FRAMES_PER_BEAT = 4 };

/* chroma with one pitch class per beat: class[k] on beat k's frames */
static void fill(float *chroma, const int *class_of_beat)
{
    for (int k = 0; k < BEATS; k++)
        for (int t = 0; t < FRAMES_PER_BEAT; t++)
            for (int p = 0; p < 12; p++)
                chroma[(k * FRAMES_PER_BEAT + t) * 12 + p] = p == class_of_beat[k] ? 1.0f : 0.0f;
}

void test_bar_phase(void)
{
    float chroma[BEATS * FRAMES_PER_BEAT * 12];
    int64_t frame[BEATS];
    double z[BEATS];
    for (int k = 0; k < BEATS; k++)
        frame[k] = k * FRAMES_PER_BEAT;

    /* a bar of three whose chord changes on its first beat (beats 0, 3, 6, 9) */
    const int chord[BEATS] = {0, 0, 0, 7, 7, 7, 2, 2, 2, 9};
    fill(chroma, chord);
    int status = st_bar_phase_harmonic_change(chroma, BEATS * FRAMES_PER_BEAT, frame, BEATS, z);
    int rises_on_changes = status == 0 && z[0] == 0.0;
    for (int k = 1; k < BEATS; k++)
        rises_on_changes &= (k % 3 == 0) == (z[k] > 0);
    CHECK("bar phase: the harmonic change stands out where the chord changes", rises_on_changes,
          "z %.2f %.2f %.2f %.2f", z[1], z[2], z[3], z[4]);

    /* the decoder numbered the bar from beat 1 (beat numbers 2 3 1 2 3 1 ...):
     * no evidence either way, so harmony turns it to the chord changes */
    int number[BEATS];
    double evidence[BEATS] = {0};
    for (int k = 0; k < BEATS; k++)
        number[k] = (k + 1) % 3 + 1;
    int r = st_bar_phase_rotation(number, evidence, z, BEATS, 3, 1.0);
    int downbeats_on_changes = 1;
    for (int k = 0; k < BEATS; k++)
        downbeats_on_changes &= ((number[k] - 1 + r) % 3 == 0) == (k % 3 == 0);
    CHECK("bar phase: a bar of three turned to its chord changes", downbeats_on_changes,
          "rotation %d", r);
    CHECK("bar phase: weight 0 keeps the decoder's bar",
          st_bar_phase_rotation(number, evidence, z, BEATS, 3, 0.0) == 0, "rotation");
    /* a tie between rotations keeps the decoder's: only strictly better wins */
    double flat[BEATS] = {0};
    CHECK("bar phase: ties keep the decoder's bar",
          st_bar_phase_rotation(number, evidence, flat, BEATS, 3, 5.0) == 0, "rotation");

    /* a chroma that never changes: every z is 0 (no division by a zero spread) */
    const int same[BEATS] = {0};
    fill(chroma, same);
    status = st_bar_phase_harmonic_change(chroma, BEATS * FRAMES_PER_BEAT, frame, BEATS, z);
    int all_zero = status == 0;
    for (int k = 0; k < BEATS; k++)
        all_zero &= z[k] == 0.0 && isfinite(z[k]);
    CHECK("bar phase: a chord that never changes gives no harmonic evidence", all_zero, "z");

    /* too few beats to compare: zeros; no beats or one beat per bar: rotation 0 */
    z[0] = z[1] = 7;
    status = st_bar_phase_harmonic_change(chroma, BEATS * FRAMES_PER_BEAT, frame, 2, z);
    CHECK("bar phase: two beats give no harmonic evidence", status == 0 && z[0] == 0 && z[1] == 0,
          "z %g %g", z[0], z[1]);
    CHECK("bar phase: no beats, or one beat per bar, are not turned",
          st_bar_phase_rotation(number, evidence, z, 0, 3, 1.0) == 0 &&
              st_bar_phase_rotation(number, evidence, z, BEATS, 1, 1.0) == 0,
          "rotation");

    /* the last beat's span runs past the frames (a partial last bar): clipped */
    fill(chroma, chord);
    status = st_bar_phase_harmonic_change(chroma, BEATS * FRAMES_PER_BEAT - 2, frame, BEATS, z);
    CHECK("bar phase: a last beat cut short by the song's end",
          status == 0 && isfinite(z[9]) && z[9] > 0, "z[9] %g", z[9]);
}
