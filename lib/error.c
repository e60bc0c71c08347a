/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "error.h"

static int error_setv(NpError *e, int code, const char *path, int line, int column, const char *fmt,
                      va_list ap) _printf_(6, 0);
static int error_setv(NpError *e, int code, const char *path, int line, int column, const char *fmt,
                      va_list ap) {
        char *m = NULL;

        if (!e || e->message)
                return code;
        if (vasprintf(&m, fmt, ap) < 0)
                return code;
        e->message = m;
        e->path = path ? strdup(path) : NULL;
        e->line = line;
        e->column = column;
        e->code = code;
        return code;
}

int error_set(NpError *e, int code, const char *path, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        code = error_setv(e, code, path, 0, 0, fmt, ap);
        va_end(ap);
        return code;
}

int error_set_at(NpError *e, int code, const char *path, int line, int column, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        code = error_setv(e, code, path, line, column, fmt, ap);
        va_end(ap);
        return code;
}

void error_done(NpError *e) {
        free(e->path);
        free(e->message);
        *e = NP_ERROR_INIT;
}

const char *error_format(NpError *e, int code) {
        static __thread char *last;
        char *s = NULL;
        int r;

        if (!e || !e->message)
                return strerror(code < 0 ? -code : code);
        if (e->path && e->line > 0)
                r = asprintf(&s, "%s (line %d, column %d): %s", e->path, e->line, e->column, e->message);
        else if (e->line > 0)
                r = asprintf(&s, "line %d, column %d: %s", e->line, e->column, e->message);
        else if (e->path)
                r = asprintf(&s, "%s: %s", e->path, e->message);
        else
                r = asprintf(&s, "%s", e->message);
        if (r < 0)
                return e->message;
        free(last);
        last = s;
        return s;
}
