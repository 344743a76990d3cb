/* Where the shipped model files are found. */
#ifndef ST_MODEL_PATH_H
#define ST_MODEL_PATH_H

#include <stddef.h>

/* The path of model file `file`: $STRATA_MODELS/FILE, else models/ beside the
 * executable, else ../share/strata/models from it (an install), else
 * ../models from it (a build in a subfolder of the source tree, such as
 * build-san/). 0, or -1 when none is readable. */
int st_model_default_path(const char *file, char *path, size_t size);

#endif
