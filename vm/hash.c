#include "hash.h"

#include <string.h>

#define FNV_PRIME 0x100000001b3ULL

void st_hash_init(st_hash *h)
{
    h->a = 0xcbf29ce484222325ULL;
    h->b = 0x84222325cbf29ce4ULL;
}

void st_hash_bytes(st_hash *h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h->a = (h->a ^ p[i]) * FNV_PRIME;
        h->b = (h->b ^ (unsigned char)(p[i] + 0x5b)) * FNV_PRIME;
    }
}

void st_hash_str(st_hash *h, const char *s) { st_hash_bytes(h, s, strlen(s) + 1); }

void st_hash_u64(st_hash *h, uint64_t x) { st_hash_bytes(h, &x, sizeof x); }

void st_hash_double(st_hash *h, double x)
{
    if (x == 0) x = 0; /* -0 and 0 are one parameter value */
    st_hash_bytes(h, &x, sizeof x);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void st_hash_final(const st_hash *h, uint64_t *hi, uint64_t *lo)
{
    *hi = mix64(h->a);
    *lo = mix64(h->b ^ *hi);
}
