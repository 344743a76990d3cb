#include "progress.h"

#include "parallel.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Guarded by lock: the node's thread draws bars, the watcher draws time. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int drawn, watcher_started;
static double last_s, started_s, after_s = 1.0;
static const char *running; /* the node between begin and done, or NULL */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void draw_locked(const char *label, const char *bar, const char *amount, const char *note)
{
    fprintf(stderr, "\r%-12.12s [%s] %4s %-24.24s", label, bar, amount, note ? note : "");
    fflush(stderr);
    drawn = 1;
}

void st_progress_draw(const char *label, double fraction, const char *note)
{
    if (!isatty(2)) return;
    pthread_mutex_lock(&lock);
    double t = now_s();
    if (!drawn || t - last_s >= 0.1 || fraction >= 1.0) {
        last_s = t;
        if (fraction < 0) fraction = 0;
        if (fraction > 1) fraction = 1;
        char bar[41], amount[16];
        int filled = (int)(fraction * 40 + 0.5);
        for (int i = 0; i < 40; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[40] = 0;
        snprintf(amount, sizeof amount, "%3d%%", (int)(fraction * 100 + 0.5));
        draw_locked(label, bar, amount, note);
    }
    pthread_mutex_unlock(&lock);
}

/* Draws the running node's seconds when it has run a second
 * ($STRATA_PROGRESS_AFTER_S) and drawn nothing for half a second: a bar
 * with a mark that moves. */
static void *watch(void *unused)
{
    (void)unused;
    for (;;) {
        struct timespec pause = {0, 250000000};
        nanosleep(&pause, NULL);
        pthread_mutex_lock(&lock);
        double t = now_s();
        if (running && t - started_s >= after_s && (!drawn || t - last_s >= 0.5)) {
            char bar[41], amount[16], note[32];
            int at = (int)((t - started_s) * 4) % 76;
            at = at < 38 ? at : 75 - at;
            for (int i = 0; i < 40; i++)
                bar[i] = i >= at && i < at + 3 ? '=' : ' ';
            bar[40] = 0;
            snprintf(amount, sizeof amount, "%s", "");
            snprintf(note, sizeof note, "%.0f s", t - started_s);
            draw_locked(running, bar, amount, note);
            last_s = t - 0.4; /* the node's own bar may draw at once */
        }
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

void st_progress_begin(const char *label)
{
    if (!isatty(2)) return;
    pthread_mutex_lock(&lock);
    running = label;
    started_s = now_s();
    if (!watcher_started) {
        const char *env = getenv("STRATA_PROGRESS_AFTER_S"); /* tests make it short */
        if (env && atof(env) >= 0) after_s = atof(env);
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        watcher_started = st_thread_start(&thread, &attr, watch, NULL) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_mutex_unlock(&lock);
}

void st_progress_done(void)
{
    pthread_mutex_lock(&lock);
    running = NULL;
    if (drawn) {
        fprintf(stderr, "\r%95s\r", "");
        fflush(stderr);
        drawn = 0;
    }
    pthread_mutex_unlock(&lock);
}
