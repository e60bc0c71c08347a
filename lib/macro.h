/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Ownership rules for all of lib/:
 *
 *  - `const T *` parameters are borrowed: the callee neither frees nor keeps them.
 *  - Returned pointers belong to the caller.
 *  - `ret_*` out-parameters come last and are written only on success.
 *  - Destructors are named `x_free()`, accept NULL and return NULL, so that
 *    `p = x_free(p);` both frees and clears.
 *  - jansson: json_object_get() and json_string_value() return borrowed
 *    references, json_object_set_new() steals. Only lib/manifest*.c touch JSON,
 *    and they copy what they keep: no json_t outlives manifest_parse_*().
 *  - Functions that can fail return int: >= 0 on success, -errno on failure.
 *    Constructors return NULL only on out-of-memory. Nothing in lib/ prints or
 *    exits; parse errors are reported through an NpError (lib/error.h).
 */

#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <libmount.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _warn_unused_result_ __attribute__((warn_unused_result))

/* IN_SET(x, a, b, …): x equals one of the listed constants. */
#define IN_SET(x, ...)                                                                               \
        ({                                                                                           \
                const __typeof__(x) _in_set_v_ = (x);                                                \
                const __typeof__(x) _in_set_l_[] = { __VA_ARGS__ };                                  \
                bool _in_set_f_ = false;                                                             \
                for (size_t _in_set_i_ = 0; _in_set_i_ < ELEMENTSOF(_in_set_l_); _in_set_i_++)       \
                        if (_in_set_l_[_in_set_i_] == _in_set_v_)                                    \
                                _in_set_f_ = true;                                                   \
                _in_set_f_;                                                                          \
        })

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand a pointer or fd over: return its value and clear the variable, so the
 * cleanup attribute no longer frees it. */
#define TAKE_PTR(p)                                                                                  \
        ({                                                                                           \
                __typeof__(p) _tp_ = (p);                                                            \
                (p) = NULL;                                                                          \
                _tp_;                                                                                \
        })
#define TAKE_FD(fd)                                                                                  \
        ({                                                                                           \
                int _tf_ = (fd);                                                                     \
                (fd) = -1;                                                                           \
                _tf_;                                                                                \
        })

#define STRV_FOREACH(s, l) for (char *const *s = (l); s && *s; s++)

/* Frees `p` and returns NULL, for `p = mfree(p);`. */
static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* Closes `fd` if it is open and returns -1, for `fd = safe_close(fd);`. */
static inline int safe_close(int fd) {
        closep(&fd);
        return -1;
}

static inline void fclosep(FILE **f) {
        if (*f)
                (void) fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Declares `name##p(T **)` calling `func` on a non-NULL pointer. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                      \
        static inline void func##p(type *p) {                                                        \
                if (*p)                                                                              \
                        (void) func(*p);                                                             \
        }

/* The libraries' own destructors, for _cleanup_(xp). Including their
 * headers links nothing: an unused static inline references no symbol. */
DEFINE_TRIVIAL_CLEANUP_FUNC(DIR *, closedir);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_write_free);
/* jansson >= 2.11 has json_decrefp() (its json_auto_t). */
#define _cleanup_json_ _cleanup_(json_decrefp)

static inline int negative_errno(void) {
        /* Callers use this right after a failed libc call; errno is never 0 there,
         * but if it is, report EIO rather than success. */
        return errno > 0 ? -errno : -EIO;
}

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline const char *yes_no(int b) {
        return b ? "yes" : "no";
}
