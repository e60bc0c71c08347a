/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enter.h"
#include "macro.h"
#include "proc-state.h"

const int forwarded_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };
const size_t n_forwarded_signals = ELEMENTSOF(forwarded_signals);

int fd_send(int sock, int fd) {
        char data = 'F';
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &data, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        while (sendmsg(sock, &mh, MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        return negative_errno();
        return 0;
}

int fd_receive(int sock, int *ret_fd) {
        char data;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov = { .iov_base = &data, .iov_len = 1 };
        struct msghdr mh = {
                .msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = control.buf,
                .msg_controllen = sizeof(control.buf),
        };
        struct cmsghdr *c;
        ssize_t n;
        int fd = -1;

        do
                n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        if (n == 0)
                return -ECONNRESET; /* the joiner is gone without sending */
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                    c->cmsg_len == CMSG_LEN(sizeof(int))) {
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
                        break;
                }
        if (fd < 0 || (mh.msg_flags & MSG_CTRUNC)) {
                if (fd >= 0)
                        close(fd);
                return -EBADMSG;
        }
        *ret_fd = fd;
        return 0;
}

int pidfd_alive(int pidfd) {
        if (proc_pidfd_send_signal(pidfd, 0) < 0)
                return negative_errno();
        return 0;
}

_Noreturn void exit_like(int code, int status) {
        struct rlimit no_core = { 0, 0 };
        sigset_t s;

        if (code == CLD_EXITED)
                _exit(status & 0xff);
        if (code != CLD_KILLED && code != CLD_DUMPED)
                _exit(EXIT_INTERNAL);
        /* Die of the same signal, so that our caller sees what the command
         * saw; without dumping a core of our own. */
        (void) setrlimit(RLIMIT_CORE, &no_core);
        (void) signal(status, SIG_DFL);
        sigemptyset(&s);
        sigaddset(&s, status);
        (void) sigprocmask(SIG_UNBLOCK, &s, NULL);
        (void) raise(status);
        _exit(128 + (status & 0x7f));
}
