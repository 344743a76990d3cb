/* The on-disk result cache for slow nodes.
 *
 * Files live under $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else
 * ~/.cache/strata, one per result key. The folder is made 0700 and used only
 * when it belongs to the user and nobody else may write to it; otherwise
 * strata warns once and runs without the cache. An entry (0600) is written
 * under a temporary name and renamed into place, so two processes sharing the
 * folder only ever see whole files; it carries a format version, its key, its
 * size and a checksum of its bytes, and every size in it is checked against
 * the file before it sizes an allocation. An entry that fails a check is
 * reported in one warning line, removed and computed again. A folder that
 * cannot be written (read-only, full) is tolerated: results are computed and
 * not kept. When the folder grows past the cap ($STRATA_CACHE_MAX_MB, default
 * 4096) the least recently used entries are removed; a hit touches its file.
 */
#ifndef ST_CACHE_H
#define ST_CACHE_H

#include "graph.h"

#include <stdio.h>

/* The folder, or NULL when no home is known. */
const char *st_cache_dir(void);
/* A new reference to the cached value, or NULL on a miss. */
st_value *st_cache_load(st_key key);
/* Best effort: ST_OK or ST_ERR (a full disk is no reason to fail a patch). */
int st_cache_store(st_key key, const st_value *v);

/* What the cache met in this process: entries refused as damaged, and
 * whether the folder was refused (not ours) or could not be written. */
typedef struct {
    int damaged, folder_refused, write_failed;
} st_cache_stats;
st_cache_stats st_cache_get_stats(void);
/* Forgets what was learnt about the folder (tests change it between runs). */
void st_cache_reset(void);

/* Entry files, also used by tests and the fuzzer. f must be a regular file
 * (its size bounds what is read). The reader returns NULL with the reason in
 * why for anything but a whole, well-formed entry. */
int st_value_write_entry(FILE *f, st_key key, const st_value *v);
st_value *st_value_read_entry(FILE *f, st_key *key, char *why, size_t why_size);
/* The same with a zero key. */
int st_value_write(FILE *f, const st_value *v);
st_value *st_value_read(FILE *f);

#endif
