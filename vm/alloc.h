/* Zeroed memory for sample data. Large blocks come straight from mmap in
 * transparent huge pages: a 180 s stereo spectrum is 250 MB, and faulting
 * it in 4 kB pages costs more than the FFTs that fill it. */
#ifndef ST_ALLOC_H
#define ST_ALLOC_H

#include <stddef.h>

void *st_zalloc(size_t bytes); /* NULL when memory is short */
void st_zfree(void *p);

#endif
