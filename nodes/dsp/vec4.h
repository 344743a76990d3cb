/* Four floats at a time (SSE, every x86-64), for plain element-wise loops
 * that GCC's -O2 leaves scalar: the same operations on each element, so the
 * same bits as the scalar loop. GCC's vector extensions, no intrinsics. */
#ifndef ST_VEC4_H
#define ST_VEC4_H

#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));

/* a where mask (a comparison's result) is set, else b */
#define V4_SELECT(mask, a, b) ((v4f)(((v4i)(a) & (mask)) | ((v4i)(b) & ~(mask))))

/* unaligned loads and stores (memcpy compiles to one movups) */
static inline v4f v4_load(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void v4_store(float *p, v4f v) { memcpy(p, &v, sizeof v); }

#endif
