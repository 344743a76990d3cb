#include "check.h"

int check_failures;

int main(void)
{
    test_values();
    test_stft();
    test_graph();
    test_cache();
    test_dbn();
    test_nmf();
    test_nn();
    test_ntd();
    test_unet();
    test_repet();
    test_loop_groups();
    test_magnitude();
    test_cycle_tucker();
    test_loop_parts();
    test_bar_phase();
    test_bar_rank();
    return 0; /* failures are counted from the output */
}
