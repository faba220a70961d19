/* A disk whose fsync costs milliseconds, for benchmarks only (LD_PRELOAD).
 *
 * fsync and fdatasync wait REXIAN_FSYNC_DELAY_US microseconds, then do the real call: what
 * a commit waits for on a disk slower than this machine's (cloud block storage, SSDs
 * without power-loss protection, spinning disks: 1-10 ms per flush). The wait is a sleep,
 * so it costs no CPU and other threads run meanwhile, as they do while a real disk
 * flushes. Built and preloaded by tools/slow_disk.py; never part of the engine.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static long delay_us = -1;

static void wait_for_disk(void) {
    if (delay_us < 0) {
        const char *text = getenv("REXIAN_FSYNC_DELAY_US");
        delay_us = text ? atol(text) : 0;
    }
    if (delay_us > 0) {
        struct timespec pause = {delay_us / 1000000, (delay_us % 1000000) * 1000};
        while (nanosleep(&pause, &pause) != 0) {
        }
    }
}

int fsync(int fd) {
    static int (*real)(int) = 0;
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    wait_for_disk();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int) = 0;
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    wait_for_disk();
    return real(fd);
}
