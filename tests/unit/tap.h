/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A tiny TAP producer for the unit tests: one "ok N - name" / "not ok N - name"
 * line per check, a plan at the end, exit status 1 if anything failed.
 * tests/run-all counts these lines. */

#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static unsigned tap_n, tap_failed;

static inline bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static inline bool tap_ok(bool cond, const char *file, int line, const char *fmt, ...) {
        va_list ap;

        tap_n++;
        printf("%sok %u - ", cond ? "" : "not ", tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond) {
                tap_failed++;
                printf("#   failed at %s:%d\n", file, line);
        }
        fflush(stdout);
        return cond;
}

#define OK(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
/* Compares two C strings (NULL-safe) and prints both on mismatch. */
#define OK_STREQ(got, want, ...)                                                                     \
        do {                                                                                         \
                const char *_g = (got), *_w = (want);                                                \
                if (!OK(_g && _w ? strcmp(_g, _w) == 0 : _g == _w, __VA_ARGS__))                     \
                        printf("#   got:  \"%s\"\n#   want: \"%s\"\n", _g ? _g : "(null)",             \
                               _w ? _w : "(null)");                                                  \
        } while (0)
#define OK_INTEQ(got, want, ...)                                                                     \
        do {                                                                                         \
                long long _g = (long long) (got), _w = (long long) (want);                           \
                if (!OK(_g == _w, __VA_ARGS__))                                                      \
                        printf("#   got:  %lld\n#   want: %lld\n", _g, _w);                          \
        } while (0)

static inline int tap_done(void) {
        printf("1..%u\n", tap_n);
        return tap_failed ? 1 : 0;
}

/* Removes a test's temporary tree, best effort (nftw, depth first, no
 * symlink followed). */
static inline int tap_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        (void) remove(path);
        return 0;
}

static inline void tap_rm_tree(const char *path) {
        (void) nftw(path, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
