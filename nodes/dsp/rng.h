/* One seeded generator for every node that needs randomness (noise, test
 * songs, random initialisations): xorshift64*, the same numbers on every
 * platform, unlike rand(). The state is a plain uint64_t that must not be 0;
 * a node that runs in parallel gives each thread a state of its own. */
#ifndef ST_RNG_H
#define ST_RNG_H

#include <stdint.h>

/* A state for seed (a node's "seed" parameter) and stream (a channel, a
 * thread, ...): different streams of one seed do not repeat each other. */
static inline uint64_t st_rng_seed(uint64_t seed, uint64_t stream)
{
    return 0x9E3779B97F4A7C15ULL * (seed + 1) + stream;
}

static inline uint64_t st_rng_next(uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/* Uniform in [0, 1), with 53 random bits. */
static inline double st_rng_uniform(uint64_t *state)
{
    return (double)(st_rng_next(state) >> 11) / 9007199254740992.0;
}

#endif
