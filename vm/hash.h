/* A 128-bit hash for result keys: two 64-bit FNV-1a lanes with different
 * seeds, each finished by a mixer so that nearby inputs spread. */
#ifndef ST_HASH_H
#define ST_HASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t a, b;
} st_hash;

void st_hash_init(st_hash *h);
void st_hash_bytes(st_hash *h, const void *data, size_t n);
void st_hash_str(st_hash *h, const char *s); /* includes the terminator */
void st_hash_u64(st_hash *h, uint64_t x);
void st_hash_double(st_hash *h, double x);
void st_hash_final(const st_hash *h, uint64_t *hi, uint64_t *lo);

#endif
