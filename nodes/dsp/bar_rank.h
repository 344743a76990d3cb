/* Where the arrangement changes: the effective rank of a song's bar slices,
 * the test by which bar_grid chooses a bar grid's phase (a beats-node stage
 * built on it was measured and not adopted: doc/beats.md, eighth session).
 *
 * A song cut at its bar lines is, slice by slice, a sum of the same few
 * parts (loops, an instrument's figure, a section's texture); a slice that
 * straddles a change (a part entering or leaving, a new section) is a piece
 * of one sum and a piece of another, outside their span. So the matrix whose
 * rows are the slices (each as CELLS time cells of the features' bands) has
 * the lowest effective rank, ||C||_* / ||C||_F, when the lines are the bar
 * lines. Cells average the frames with fractional weights (a line moved by a
 * fraction of a frame moves the score by as little). doc/unmix.md ("The bar
 * grid from the song's repetition") says why each detail is what it is. */
#ifndef ST_BAR_RANK_H
#define ST_BAR_RANK_H

#include <stdint.h>

enum { ST_BAR_RANK_CELLS = 64 }; /* time cells per slice */

/* The features' running sums and the scratch for up to max_slices slices.
 * Owns its memory; the features are copied in (summed). */
typedef struct st_bar_rank st_bar_rank;

/* y: n_frames x n_bands non-negative features, frame-major. NULL when
 * memory is short or max_slices < 2. */
st_bar_rank *st_bar_rank_create(const float *y, int64_t n_frames, int n_bands, int max_slices);
void st_bar_rank_destroy(st_bar_rank *z);

/* The score of the bar lines line[0..n_lines) (ascending, in fractional
 * frames): the effective rank of n_slices slices [line[j], line[j + 1]),
 * averaged over the two placements from line[0] and from line[1] (those
 * that end within the song), so that phases are compared on nearly the same
 * music. each (may be NULL) gets every placement's score, *n_placements
 * their number (0: no placement fits; the score is 0). 0, or -1 when the
 * eigensolver fails or n_slices is out of [2, max_slices]. */
int st_bar_rank_score(st_bar_rank *z, const double *line, int64_t n_lines, int n_slices,
                      double *score, double each[2], int *n_placements);

#endif
