/* The on-disk result cache for slow nodes.
 *
 * Files live under $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else
 * ~/.cache/strata, one per result key. A file is written under a temporary
 * name and renamed into place, so two processes sharing the folder only ever
 * see whole files. When the folder grows past the cap ($STRATA_CACHE_MAX_MB,
 * default 4096) the least recently used files are removed; a hit touches
 * its file.
 */
#ifndef ST_CACHE_H
#define ST_CACHE_H

#include "graph.h"

#include <stdio.h>

/* The folder, or NULL when no home is known. */
const char *st_cache_dir(void);
/* Makes the folder (and its parents): ST_OK or ST_ERR. */
int st_cache_make_dir(void);
/* A new reference to the cached value, or NULL on a miss. */
st_value *st_cache_load(st_key key);
/* Best effort: ST_OK or ST_ERR (a full disk is no reason to fail a patch). */
int st_cache_store(st_key key, const st_value *v);

/* Value files: also used by tests. */
int st_value_write(FILE *f, const st_value *v);
st_value *st_value_read(FILE *f);

#endif
