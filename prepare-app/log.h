/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* prepare-app's messages go to stderr, which systemd sends to the pod's
 * journal and console: one line each, prefixed with the program name, so a
 * failed pod start says which path of which app root was the problem. */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"

#define PREPARE_APP_NAME "prepare-app"

/* Logs "prepare-app: <message>: <strerror(-r)>" and returns r (< 0), so a
 * caller can `return log_errno(r, …)` at the one place it decides. */
static inline int log_errno(int r, const char *fmt, ...) _printf_(2, 3);
static inline int log_errno(int r, const char *fmt, ...) {
        va_list ap;

        fputs(PREPARE_APP_NAME ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, ": %s\n", strerror(r < 0 ? -r : r));
        return r;
}

/* Logs "prepare-app: <message>" (warnings and refusals that carry no errno). */
static inline void log_msg(const char *fmt, ...) _printf_(1, 2);
static inline void log_msg(const char *fmt, ...) {
        va_list ap;

        fputs(PREPARE_APP_NAME ": ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}
