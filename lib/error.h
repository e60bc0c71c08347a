/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* Error context filled by library code instead of printing. The first error
 * recorded wins; later ones are dropped, so a caller that keeps going after an
 * error still reports the root cause. */
typedef struct NpError {
        char *path;    /* JSON path ("$.apps[0].app.exec[0]"), file path, or NULL */
        char *message; /* what is wrong, without the path */
        int line;      /* 1-based position in the input, 0 when unknown */
        int column;
        int code;      /* the -errno that was returned alongside */
} NpError;

#define NP_ERROR_INIT ((NpError){})

/* Records the error (if none is recorded yet) and returns `code`, which must be
 * a negative errno, so callers write `return error_set(e, -EINVAL, path, "…")`.
 * `e` may be NULL. */
int error_set(NpError *e, int code, const char *path, const char *fmt, ...) _printf_(4, 5);
int error_set_at(NpError *e, int code, const char *path, int line, int column, const char *fmt, ...)
        _printf_(6, 7);
/* Frees the contents and resets to NP_ERROR_INIT. */
void error_done(NpError *e);
#define _cleanup_error_ _cleanup_(error_done)
/* "PATH: MESSAGE" (with ":LINE:COLUMN" when known), or the strerror text of
 * `code` when nothing was recorded. Returns a static fallback on OOM. */
const char *error_format(NpError *e, int code);
