/* The kernel's price for one green switch: N pthreads pinned to one CPU pass a token round a ring through
 * futexes (wake the next, wait for your turn), each touching 8 KB of its stack per turn as a real thread would.
 * This is the handoff the hub makes at every switch (one OS thread per green thread); with many threads it is
 * dominated by cache misses. Usage: handoff_ring N ROUNDS CPU -> "ns_per_handoff V" */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int n, rounds;
static _Atomic int *words; /* one per thread, 64 B apart */

static void take(_Atomic int *w)
{
    while (atomic_exchange(w, 0) != 1) syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}

static void give(_Atomic int *w)
{
    atomic_store(w, 1);
    syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *run(void *arg)
{
    long i = (long)arg;
    volatile char stack[8192];
    for (int r = 0; r < rounds; r++) {
        take(&words[i * 16]);
        for (int k = 0; k < (int)sizeof stack; k += 64) stack[k] = (char)k;
        give(&words[((i + 1) % n) * 16]);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: handoff_ring N ROUNDS CPU\n"); return 2; }
    n = atoi(argv[1]); rounds = atoi(argv[2]);
    cpu_set_t set; CPU_ZERO(&set); CPU_SET(atoi(argv[3]), &set);
    sched_setaffinity(0, sizeof set, &set); /* inherited by the threads */
    words = calloc((size_t)n * 16, sizeof *words);
    pthread_t *t = malloc((size_t)n * sizeof *t);
    pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setstacksize(&at, 256 * 1024);
    for (long i = 0; i < n; i++)
        if (pthread_create(&t[i], &at, run, (void *)i) != 0) { perror("pthread_create"); return 1; }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    give(&words[0]);
    for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("ns_per_handoff %.0f\n", ns / ((double)n * rounds));
    return 0;
}
