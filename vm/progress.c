#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int drawn;
static double last_s;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void st_progress_draw(const char *label, double fraction, const char *note)
{
    if (!isatty(2)) return;
    double t = now_s();
    if (drawn && t - last_s < 0.1 && fraction < 1.0) return;
    last_s = t;
    drawn = 1;
    if (fraction < 0) fraction = 0;
    if (fraction > 1) fraction = 1;
    char bar[41];
    int filled = (int)(fraction * 40 + 0.5);
    for (int i = 0; i < 40; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r%-12.12s [%s] %3d%% %-24.24s", label, bar, (int)(fraction * 100 + 0.5),
            note ? note : "");
    fflush(stderr);
}

void st_progress_done(void)
{
    if (!drawn) return;
    fprintf(stderr, "\r%95s\r", "");
    fflush(stderr);
    drawn = 0;
}
