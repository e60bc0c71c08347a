/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *program = "nspawn-pod";

void log_set_program(const char *name) {
        program = name;
}

static void log_line(const char *kind, int r, const char *fmt, va_list ap) _printf_(3, 0);
static void log_line(const char *kind, int r, const char *fmt, va_list ap) {
        char buf[4096];
        int saved = errno, n;

        /* One write(2) per line, no stdio buffer: lines of helpers running
         * in parallel do not interleave, and processes that share stderr
         * across fork() (enter's) never write a line twice. A line longer
         * than the buffer is cut. %m is the caller's errno. */
        n = snprintf(buf, sizeof(buf), "%s: %s", program, kind);
        if (n < 0)
                n = 0;
        if ((size_t) n < sizeof(buf)) {
                errno = saved;
                int m = vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);

                n = m < 0 ? n : n + m;
        }
        if (r != 0 && (size_t) n < sizeof(buf))
                n += snprintf(buf + n, sizeof(buf) - (size_t) n, ": %s", strerror(r < 0 ? -r : r));
        if ((size_t) n > sizeof(buf) - 2)
                n = (int) sizeof(buf) - 2;
        buf[n++] = '\n';
        (void) !write(STDERR_FILENO, buf, (size_t) n);
        errno = saved;
}

void log_error(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_line("", 0, fmt, ap);
        va_end(ap);
}

void log_warning(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_line("warning: ", 0, fmt, ap);
        va_end(ap);
}

int log_errno(int r, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        log_line("", r, fmt, ap);
        va_end(ap);
        return r;
}
