/* Model files: the environment, then beside the program, then the install. */
#include "model_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int readable(const char *path) { return access(path, R_OK) == 0; }

int st_model_default_path(const char *file, char *path, size_t size)
{
    const char *env = getenv("STRATA_MODELS");
    if (env && *env) {
        snprintf(path, size, "%s/%s", env, file);
        if (readable(path)) return 0;
    }
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        static const char *const where[] = {"%s/models/%s", "%s/../share/strata/models/%s",
                                            "%s/../models/%s"};
        for (size_t i = 0; i < sizeof where / sizeof *where; i++) {
            snprintf(path, size, where[i], exe, file);
            if (readable(path)) return 0;
        }
    }
    return -1;
}
