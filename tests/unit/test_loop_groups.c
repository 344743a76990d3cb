/* st_group_by_energy on small models whose joining costs are known in
 * closed form: the types joined, the order, and the loss against the
 * threshold. */
#include "../../nodes/dsp/loop_groups.h"
#include "check.h"

/* types 1 and 2 play together (type 2's activation is 3x type 1's): joining
 * them loses nothing; type 0 plays in other bars and sounds other cells */
static const float three_lt[4 * 3] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 0, 0};
static const float three_d[8 * 3] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0,
                                     0, 1, 3, 0, 2, 6, 0, 1, 3, 0, 2, 6};
/* two types in disjoint bars, orthogonal templates: energies 2 and 8, so
 * joining them loses the smaller, 2 of 10 */
static const float two_lt[2 * 2] = {1, 0, 0, 1};
static const float two_d[4 * 2] = {1, 0, 1, 0, 0, 2, 0, 2};
/* B's level relative to A alternates 1, 3 from bar to bar: one loop of a
 * two-bar cycle (period 2) loses nothing, a one-bar loop does */
static const float cycle_d[8 * 2] = {1, 1, 1, 3, 1, 1, 1, 3, 1, 1, 1, 3, 1, 1, 1, 3};

void test_loop_groups(void)
{
    int group[3];
    int n = st_group_by_energy(three_lt, three_d, 4, 8, 3, 1, 2, 0, group);
    CHECK("energy grouping joins the types that play together, not the first pair",
          n == 2 && group[1] == group[2] && group[0] != group[1], "n %d, groups %d %d %d", n,
          group[0], group[1], group[2]);
    n = st_group_by_energy(three_lt, three_d, 4, 8, 3, 1, 0, 1e-9, group);
    CHECK("energy grouping stops at the first joining that loses energy", n == 2, "n %d", n);
    int joined = st_group_by_energy(two_lt, two_d, 2, 4, 2, 1, 0, 0.21, group);
    int kept = st_group_by_energy(two_lt, two_d, 2, 4, 2, 1, 0, 0.19, group);
    CHECK("joining disjoint types loses the smaller one's energy (0.2 of the model)",
          joined == 1 && kept == 2, "joined below 0.21: %d groups, below 0.19: %d", joined, kept);
    int one_bar = st_group_by_energy(two_lt, cycle_d, 2, 8, 2, 1, 0, 1e-6, group);
    int two_bar = st_group_by_energy(two_lt, cycle_d, 2, 8, 2, 2, 0, 1e-6, group);
    CHECK("a two-bar cycle joins without loss at period 2 only", one_bar == 2 && two_bar == 1,
          "period 1: %d groups, period 2: %d", one_bar, two_bar);
}
