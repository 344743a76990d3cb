/* The real-time checker's counters: allocations, locks and blocking waits, and I/O made
 * by the thread that sets `counting`, by interposing the functions (glibc's
 * own allocator underneath, the next definition for the rest). Definitions,
 * not declarations: include it in exactly one file of a program (the stream
 * test, and the preload library that checks strata live's JACK callback).
 * Call resolve_real_functions() once before counting: dlsym may allocate. */
#ifndef ST_RT_COUNTING_H
#define ST_RT_COUNTING_H

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- counting allocator: forwards to glibc, counts while armed ---- */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);
/* Per thread: only what the processing thread does counts (a worker of an
 * earlier offline computation winding down is not the stream's doing). */
#ifndef ST_RT_TLS
#define ST_RT_TLS
#endif
static _Thread_local volatile int counting ST_RT_TLS;
static volatile int n_allocations;

void *malloc(size_t n)
{
    if (counting) n_allocations++;
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size)
{
    if (counting) n_allocations++;
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    if (counting) n_allocations++;
    return __libc_realloc(p, n);
}
void *memalign(size_t align, size_t n)
{
    if (counting) n_allocations++;
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n)
{
    if (counting) n_allocations++;
    return __libc_memalign(align, n);
}
/* freeing is as unsafe on the processing thread as allocating (the
 * allocator's locks, returning pages to the system) */
void free(void *p)
{
    if (counting && p) n_allocations++;
    __libc_free(p);
}
int posix_memalign(void **p, size_t align, size_t n)
{
    if (counting) n_allocations++;
    *p = __libc_memalign(align, n);
    return *p ? 0 : 12;
}

/* ---- counting locks and I/O: the same, through the next definition ---- */
/* n_locks counts every call that can put the thread to sleep: mutexes,
 * condition variables, semaphores and sleeps. */
static volatile int n_locks, n_io;
static int (*real_lock)(pthread_mutex_t *), (*real_trylock)(pthread_mutex_t *);
static int (*real_cond_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*real_cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*real_sem_wait)(sem_t *), (*real_sem_timedwait)(sem_t *, const struct timespec *);
static int (*real_nanosleep)(const struct timespec *, struct timespec *);
static int (*real_clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
static int (*real_usleep)(useconds_t);
static unsigned (*real_sleep)(unsigned);
static ssize_t (*real_send)(int, const void *, size_t, int), (*real_recv)(int, void *, size_t, int);
static int (*real_fflush)(FILE *), (*real_fputc)(int, FILE *), (*real_putc)(int, FILE *);
static ssize_t (*real_write)(int, const void *, size_t), (*real_read)(int, void *, size_t);
static int (*real_open)(const char *, int, ...);
static FILE *(*real_fopen)(const char *, const char *);
static size_t (*real_fwrite)(const void *, size_t, size_t, FILE *);
static int (*real_vfprintf)(FILE *, const char *, va_list);
static int (*real_fputs)(const char *, FILE *);

/* Found on first use (and once more before anything is counted: dlsym may allocate). */
#define REAL(fn, name) (fn ? fn : (*(void **)&fn = dlsym(RTLD_NEXT, name), fn))
/* glibc keeps an old ABI of the condition variables under the same names:
 * ask for the current one by version (x86-64's; other ports take the default) */
static void *real_cond(const char *name)
{
    void *fn = dlvsym(RTLD_NEXT, name, "GLIBC_2.3.2");
    return fn ? fn : dlsym(RTLD_NEXT, name);
}
#define REAL_COND(fn, name) (fn ? fn : (*(void **)&fn = real_cond(name), fn))

static void resolve_real_functions(void);
int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (counting) n_locks++;
    return REAL(real_lock, "pthread_mutex_lock")(m);
}
int pthread_mutex_trylock(pthread_mutex_t *m)
{
    if (counting) n_locks++;
    return REAL(real_trylock, "pthread_mutex_trylock")(m);
}
int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (counting) n_locks++;
    return REAL_COND(real_cond_wait, "pthread_cond_wait")(c, m);
}
int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
    if (counting) n_locks++;
    return REAL_COND(real_cond_timedwait, "pthread_cond_timedwait")(c, m, t);
}
int sem_wait(sem_t *s)
{
    if (counting) n_locks++;
    return REAL(real_sem_wait, "sem_wait")(s);
}
int sem_timedwait(sem_t *s, const struct timespec *t)
{
    if (counting) n_locks++;
    return REAL(real_sem_timedwait, "sem_timedwait")(s, t);
}
int nanosleep(const struct timespec *t, struct timespec *rest)
{
    if (counting) n_locks++;
    return REAL(real_nanosleep, "nanosleep")(t, rest);
}
int clock_nanosleep(clockid_t clock, int flags, const struct timespec *t, struct timespec *rest)
{
    if (counting) n_locks++;
    return REAL(real_clock_nanosleep, "clock_nanosleep")(clock, flags, t, rest);
}
int usleep(useconds_t us)
{
    if (counting) n_locks++;
    return REAL(real_usleep, "usleep")(us);
}
unsigned sleep(unsigned s)
{
    if (counting) n_locks++;
    return REAL(real_sleep, "sleep")(s);
}
ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    if (counting) n_io++;
    return REAL(real_send, "send")(fd, buf, n, flags);
}
ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    if (counting) n_io++;
    return REAL(real_recv, "recv")(fd, buf, n, flags);
}
int fflush(FILE *f)
{
    if (counting) n_io++;
    return REAL(real_fflush, "fflush")(f);
}
int fputc(int ch, FILE *f)
{
    if (counting) n_io++;
    return REAL(real_fputc, "fputc")(ch, f);
}
int putc(int ch, FILE *f)
{
    if (counting) n_io++;
    return REAL(real_putc, "putc")(ch, f);
}
ssize_t write(int fd, const void *buf, size_t n)
{
    if (counting) n_io++;
    return REAL(real_write, "write")(fd, buf, n);
}
ssize_t read(int fd, void *buf, size_t n)
{
    if (counting) n_io++;
    return REAL(real_read, "read")(fd, buf, n);
}
int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    int mode = flags & (O_CREAT | O_TMPFILE) ? va_arg(ap, int) : 0;
    va_end(ap);
    if (counting) n_io++;
    return REAL(real_open, "open")(path, flags, mode);
}
FILE *fopen(const char *path, const char *mode)
{
    if (counting) n_io++;
    return REAL(real_fopen, "fopen")(path, mode);
}
size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    if (counting) n_io++;
    return REAL(real_fwrite, "fwrite")(p, size, n, f);
}
int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    if (counting) n_io++;
    return REAL(real_vfprintf, "vfprintf")(f, fmt, ap);
}
int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}
int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return n;
}
int fputs(const char *s, FILE *f)
{
    if (counting) n_io++;
    return REAL(real_fputs, "fputs")(s, f);
}
int puts(const char *s)
{
    if (counting) n_io++;
    return REAL(real_fputs, "fputs")(s, stdout) < 0 ? EOF : REAL(real_fputs, "fputs")("\n", stdout);
}

static void resolve_real_functions(void)
{
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_trylock(&m);
    pthread_mutex_unlock(&m);
    pthread_mutex_lock(&m);
    pthread_mutex_unlock(&m);
    if (write(2, "", 0) < 0 || read(0, NULL, 0) < 0) return;
    fprintf(stderr, "%s", "");
    fputs("", stderr);
    fwrite("", 1, 0, stderr);
    FILE *f = fopen("/dev/null", "r");
    if (f) fclose(f);
    int fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) close(fd);
    /* the waits, resolved without waiting */
    REAL_COND(real_cond_wait, "pthread_cond_wait");
    REAL_COND(real_cond_timedwait, "pthread_cond_timedwait");
    REAL(real_sem_wait, "sem_wait");
    REAL(real_sem_timedwait, "sem_timedwait");
    REAL(real_nanosleep, "nanosleep");
    REAL(real_clock_nanosleep, "clock_nanosleep");
    REAL(real_usleep, "usleep");
    REAL(real_sleep, "sleep");
    REAL(real_send, "send");
    REAL(real_recv, "recv");
    REAL(real_fflush, "fflush");
    REAL(real_fputc, "fputc");
    REAL(real_putc, "putc");
}

#endif
