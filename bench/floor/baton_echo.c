/* The architecture's floor for echo: Evergreen's design in C, without .NET. One pthread per connection, all
 * pinned to one CPU; only the holder of the baton runs; a thread that would block runs the scheduler itself
 * (run queue in rounds, edge-triggered epoll polled between rounds, blocking epoll_wait when nothing is runnable)
 * and hands the baton to the next thread with a futex wake, then futex-waits for its own turn — one OS context
 * switch per message, as the hub does. bench/cases/echo.sh runs it as system c-baton-1cpu beside our servers:
 * the difference between it and c-epoll-1cpu is the price of one OS thread per green thread; the difference
 * between green and c-baton-1cpu is ours (.NET, the BCL socket path, the scheduler's bookkeeping).
 * Usage: baton_echo PORT   (listens on 127.0.0.1:PORT, prints READY) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXT 65536
typedef struct { _Atomic int word; int fd; int waiting; char pad[52]; } green_t; /* one cache line each */
static green_t g[MAXT];
static int nthreads, ep, listener;
static int runq[MAXT], rq_head, rq_count, round_left;

static void park(int self)
{
    while (atomic_exchange(&g[self].word, 0) != 1) syscall(SYS_futex, &g[self].word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
}
static void unpark(int t)
{
    atomic_store(&g[t].word, 1);
    syscall(SYS_futex, &g[t].word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}
static void push(int t) { runq[(rq_head + rq_count++) % MAXT] = t; }
static int pop(void) { int t = runq[rq_head]; rq_head = (rq_head + 1) % MAXT; rq_count--; return t; }

static void poll_io(int timeout)
{
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, timeout);
    for (int i = 0; i < n; i++) {
        int t = (int)evs[i].data.u32;
        if (g[t].waiting) { g[t].waiting = 0; push(t); }
    }
}

/* The calling thread blocks (it registered a wait, or it yields): run the scheduler, hand the baton on, wait. */
static void switch_away(int self)
{
    for (;;) {
        if (round_left > 0 && rq_count > 0) { round_left--; break; }
        poll_io(0);
        if (rq_count > 0) { round_left = rq_count; continue; }
        poll_io(-1);
    }
    int next = pop();
    if (next == self) return;
    unpark(next);
    park(self);
}

static void wait_readable(int self)
{
    g[self].waiting = 1;
    switch_away(self);
}

static void *serve(void *arg)
{
    int self = (int)(long)arg;
    park(self); /* first turn */
    char buf[4096];
    int fd = g[self].fd;
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) {
            if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r) break; /* 64-byte messages always fit */
            continue;
        }
        if (r < 0 && errno == EAGAIN) { wait_readable(self); continue; }
        break;
    }
    close(fd);
    /* this thread ends: hand the baton on without waiting (a real hub would reuse the thread) */
    for (;;) {
        if (rq_count > 0) { unpark(pop()); return NULL; }
        poll_io(rq_count > 0 ? 0 : -1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: baton_echo PORT\n"); return 2; }
    int one = 1;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&a, sizeof a) != 0 || listen(listener, 4096) != 0) { perror("bind/listen"); return 1; }
    ep = epoll_create1(0);
    int self = nthreads++; /* the accepting green thread: main */
    struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)self };
    epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
    pthread_attr_t at; pthread_attr_init(&at); pthread_attr_setstacksize(&at, 256 * 1024);
    printf("READY 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    for (;;) {
        int c = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
        if (c < 0) {
            if (errno == EAGAIN) { wait_readable(self); continue; }
            perror("accept"); return 1;
        }
        if (nthreads >= MAXT) { close(c); continue; }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int t = nthreads++;
        g[t].fd = c;
        struct epoll_event ce = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t)t };
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
        pthread_t th;
        if (pthread_create(&th, &at, serve, (void *)(long)t) != 0) { perror("pthread_create"); return 1; }
        pthread_detach(th);
        push(t);
    }
}
