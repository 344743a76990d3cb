/* A small test harness: each test prints "ok NAME" or "FAIL NAME: why";
 * tests/run.sh counts the lines. */
#ifndef ST_CHECK_H
#define ST_CHECK_H

#include <stdio.h>

extern int check_failures;

#define CHECK(name, cond, ...)                                                                     \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok %s\n", name);                                                               \
        } else {                                                                                   \
            check_failures++;                                                                      \
            printf("FAIL %s: ", name);                                                             \
            printf(__VA_ARGS__);                                                                   \
            printf(" (%s:%d)\n", __FILE__, __LINE__);                                              \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

/* The whole of the file dir/name (dir NULL: name is the path), with a 0
 * after it and its size in *size (may be NULL); NULL when it cannot be read.
 * The caller frees it. For the conformance fixtures. */
char *check_read_file(const char *dir, const char *name, long *size);

/* Every test file defines one entry, listed in tests/unit/main.c. */
void test_stft(void);
void test_graph(void);
void test_cache(void);
void test_values(void);
void test_dbn(void);
void test_nmf(void);
void test_nn(void);
void test_ntd(void);
void test_unet(void);
void test_repet(void);
void test_loop_groups(void);
void test_magnitude(void);
void test_cycle_tucker(void);
void test_loop_parts(void);
void test_bar_phase(void);
void test_bar_rank(void);

#endif
