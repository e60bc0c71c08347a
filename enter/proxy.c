/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter's relay between the caller's stdin/stdout/stderr and the command's
 * pipes or terminal. The caller's descriptors are used as they are (never
 * made non-blocking: that would change them for whoever shares them, the
 * caller's shell); ours are non-blocking, and each direction has a buffer, so
 * a command that does not read its input never stops its output.
 */
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "enter.h"
#include "fd-util.h"
#include "macro.h"
#include "proc-state.h"

#define PUMP_BUF (64 * 1024)

typedef struct Pump {
        int from, to;
        int *own_from, *own_to; /* ours: closed here when done with them */
        bool close_to_at_eof;   /* the command's stdin: EOF is passed on by closing it */
        bool eof;
        size_t off, len;
        char buf[PUMP_BUF];
} Pump;

static void pump_close_to(Pump *p) {
        if (p->own_to)
                closep(p->own_to), *p->own_to = -1;
        p->to = -1;
}

static void pump_close_from(Pump *p) {
        if (p->own_from)
                closep(p->own_from), *p->own_from = -1;
        p->from = -1;
}

static void pump_read(Pump *p) {
        ssize_t n = read(p->from, p->buf, sizeof(p->buf));

        if (n > 0) {
                p->off = 0;
                p->len = (size_t) n;
                return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        /* 0: end of file; EIO: a terminal whose other side is all closed. */
        p->eof = true;
        pump_close_from(p);
        if (p->close_to_at_eof)
                pump_close_to(p);
}

static void pump_write(Pump *p) {
        ssize_t n = write(p->to, p->buf + p->off, p->len - p->off);

        if (n > 0) {
                p->off += (size_t) n;
                if (p->off == p->len)
                        p->off = p->len = 0;
        } else if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        else {
                /* The reader is gone (EPIPE): stop this direction, and let
                 * the writer on the other side find out the same way. */
                p->off = p->len = 0;
                pump_close_to(p);
                pump_close_from(p);
                p->eof = true;
        }
        if (p->eof && p->len == 0 && p->close_to_at_eof)
                pump_close_to(p);
}

/* What is left in the command's output once it is gone: until a read would
 * block (a process the command left behind may keep the pipe open). */
static void pump_drain(Pump *p) {
        for (int rounds = 0; rounds < 1024 && p->to >= 0; rounds++) {
                if (p->len > 0 && fd_write_all(p->to, p->buf + p->off, p->len - p->off) < 0)
                        break;
                p->off = p->len = 0;
                if (p->from < 0)
                        break;
                pump_read(p);
                if (p->len == 0)
                        break;
        }
}

static void forward_signal(int sig_fd, int child_pidfd, int master) {
        struct signalfd_siginfo si;

        while (read(sig_fd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGWINCH) {
                        struct winsize ws;

                        /* The command's terminal takes the caller's size; the
                         * kernel tells its foreground process group. */
                        if (master >= 0 && (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 ||
                                            ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) >= 0))
                                (void) ioctl(master, TIOCSWINSZ, &ws);
                        continue;
                }
                (void) proc_pidfd_send_signal(child_pidfd, (int) si.ssi_signo);
        }
}

int proxy_run(int master, int *in_w, int *out_r, int *err_r, int sig_fd, int child_pidfd) {
        /* Static: 64 KiB buffers, and one relay per process. */
        static Pump p_in, p_out, p_err;
        Pump *pumps[3] = {};
        size_t n_pumps = 0;
        bool child_done = false;
        int r = 0;

        if (master >= 0) {
                /* A terminal has no end of file to pass on: at the end of the
                 * caller's input the command just gets no more. */
                p_in = (Pump){ .from = STDIN_FILENO, .to = master };
                p_out = (Pump){ .from = master, .to = STDOUT_FILENO };
                pumps[n_pumps++] = &p_in;
                pumps[n_pumps++] = &p_out;
        } else {
                p_in = (Pump){ .from = STDIN_FILENO, .to = *in_w, .own_to = in_w, .close_to_at_eof = true };
                p_out = (Pump){ .from = *out_r, .own_from = out_r, .to = STDOUT_FILENO };
                p_err = (Pump){ .from = *err_r, .own_from = err_r, .to = STDERR_FILENO };
                pumps[n_pumps++] = &p_in;
                pumps[n_pumps++] = &p_out;
                pumps[n_pumps++] = &p_err;
                if (fcntl(*in_w, F_SETFL, O_NONBLOCK) < 0 || fcntl(*out_r, F_SETFL, O_NONBLOCK) < 0 ||
                    fcntl(*err_r, F_SETFL, O_NONBLOCK) < 0)
                        return negative_errno();
        }

        while (!child_done) {
                struct pollfd pfd[2 + 2 * ELEMENTSOF(pumps)];
                Pump *owner[ELEMENTSOF(pfd)];
                bool is_read[ELEMENTSOF(pfd)];
                size_t n = 0;

                pfd[n++] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
                pfd[n++] = (struct pollfd){ .fd = child_pidfd, .events = POLLIN };
                for (size_t i = 0; i < n_pumps; i++) {
                        Pump *p = pumps[i];

                        if (p->len == 0 && !p->eof && p->from >= 0) {
                                owner[n] = p, is_read[n] = true;
                                pfd[n++] = (struct pollfd){ .fd = p->from, .events = POLLIN };
                        } else if (p->len > 0 && p->to >= 0) {
                                owner[n] = p, is_read[n] = false;
                                pfd[n++] = (struct pollfd){ .fd = p->to, .events = POLLOUT };
                        }
                }
                if (poll(pfd, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = negative_errno();
                        break;
                }
                if (pfd[0].revents)
                        forward_signal(sig_fd, child_pidfd, master);
                if (pfd[1].revents)
                        child_done = true;
                for (size_t i = 2; i < n; i++) {
                        Pump *p = owner[i];

                        if (!pfd[i].revents)
                                continue;
                        if (pfd[i].revents & POLLNVAL) {
                                /* A closed stdio descriptor of the caller. */
                                p->eof = true, p->len = 0;
                                if (p->close_to_at_eof)
                                        pump_close_to(p);
                                continue;
                        }
                        if (is_read[i])
                                pump_read(p);
                        else
                                pump_write(p);
                }
        }
        /* The joiner exits right after the command: what the command wrote
         * is in the pipes or the terminal now. Its input is of no use. */
        for (size_t i = 0; i < n_pumps; i++)
                if (pumps[i] != &p_in)
                        pump_drain(pumps[i]);
        return r;
}
