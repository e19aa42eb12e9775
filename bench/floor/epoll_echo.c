/* The one-CPU floor for echo: a single-threaded, edge-triggered epoll echo server in C, no green threads,
 * no handoffs. bench/cases/echo.sh runs it pinned to one CPU (system c-epoll-1cpu) beside our servers:
 * it shows what one core can serve here when nothing but the socket work itself is paid per message.
 * Usage: epoll_echo PORT   (listens on 127.0.0.1:PORT, prints READY) */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2) { fprintf(stderr, "usage: epoll_echo PORT\n"); return 2; }
    int one = 1;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 4096) != 0) { perror("bind/listen"); return 1; }
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN, .data.fd = l };
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
    printf("READY 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);
    struct epoll_event evs[256];
    char buf[4096];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = { .events = EPOLLIN | EPOLLET, .data.fd = c };
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            for (;;) {
                ssize_t r = recv(fd, buf, sizeof buf, 0);
                if (r > 0) {
                    /* 64-byte messages always fit the send buffer; a full one would need EPOLLOUT handling */
                    if (send(fd, buf, (size_t)r, MSG_NOSIGNAL) != r) { close(fd); break; }
                    if (r < (ssize_t)sizeof buf) break; /* short read: drained (edge-triggered) */
                    continue;
                }
                if (r == 0 || errno != EAGAIN) close(fd);
                break;
            }
        }
    }
}
