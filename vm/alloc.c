#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HUGE_PAGE ((size_t)2 << 20)
#define LARGE     ((size_t)1 << 20)
#define HEADER    64 /* keeps the data 64-byte aligned */

/* Under AddressSanitizer every block comes from the heap, so that its
 * redzones catch an overrun of the large buffers too (mmap has none). */
#if defined(__SANITIZE_ADDRESS__)
#define HEAP_ONLY 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_ONLY 1
#endif
#endif
#ifndef HEAP_ONLY
#define HEAP_ONLY 0
#endif

/* A header before the data says how the block was made. */
typedef struct {
    size_t mapped; /* bytes mapped, or 0 for malloc */
} block_header;

void *st_zalloc(size_t bytes)
{
    if (bytes < LARGE || HEAP_ONLY) {
        /* a multiple of the alignment, as aligned_alloc asks */
        size_t size = (bytes + HEADER + HEADER - 1) / HEADER * HEADER;
        char *p = aligned_alloc(HEADER, size);
        if (!p) return NULL;
        memset(p, 0, size);
        ((block_header *)p)->mapped = 0;
        return p + HEADER;
    }
    size_t size = (bytes + HEADER + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    madvise(p, size, MADV_HUGEPAGE); /* a hint: without THP it is plain pages */
    ((block_header *)p)->mapped = size;
    return p + HEADER;
}

void st_zfree(void *data)
{
    if (!data) return;
    char *p = (char *)data - HEADER;
    size_t mapped = ((block_header *)p)->mapped;
    if (mapped)
        munmap(p, mapped);
    else
        free(p);
}
