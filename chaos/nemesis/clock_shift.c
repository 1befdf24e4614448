/* clock_shift: LD_PRELOAD shim that shifts CLOCK_REALTIME by $CHAOS_CLOCK_SHIFT_NS.
 *
 * Only wall-clock reads move (clock_gettime REALTIME*, gettimeofday, time);
 * CLOCK_MONOTONIC, sleeps and timed waits are untouched. libfaketime 0.9.10
 * (Debian) breaks Python 3.11 here: with FAKETIME_DONT_FAKE_MONOTONIC=1 every
 * sleep fails with EINVAL, without it thread waits hang.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

static long long shift_ns(void) {
    static int loaded;
    static long long shift;
    if (!loaded) {
        const char *s = getenv("CHAOS_CLOCK_SHIFT_NS");
        shift = s ? atoll(s) : 0;
        loaded = 1;
    }
    return shift;
}

static void add_shift(struct timespec *ts) {
    long long ns = (long long)ts->tv_sec * 1000000000LL + ts->tv_nsec + shift_ns();
    ts->tv_sec = (time_t)(ns / 1000000000LL);
    ts->tv_nsec = (long)(ns % 1000000000LL);
    if (ts->tv_nsec < 0) {
        ts->tv_nsec += 1000000000L;
        ts->tv_sec -= 1;
    }
}

int clock_gettime(clockid_t id, struct timespec *ts) {
    static int (*real)(clockid_t, struct timespec *);
    if (!real) real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
    int rc = real(id, ts);
    if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE)) add_shift(ts);
    return rc;
}

int gettimeofday(struct timeval *tv, void *tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
