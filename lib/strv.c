/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <string.h>

#include "strv.h"

char **strv_free(char **l) {
        STRV_FOREACH(s, l)
                free(*s);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        STRV_FOREACH(s, l)
                n++;
        return n;
}

int strv_consume(char ***l, char *value) {
        size_t n;
        char **c;

        if (!value)
                return -ENOMEM;
        n = strv_length(*l);
        c = realloc(*l, sizeof(char *) * (n + 2));
        if (!c) {
                free(value);
                return -ENOMEM;
        }
        c[n] = value;
        c[n + 1] = NULL;
        *l = c;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_consume(l, strdup(value));
}

int strv_extendf(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

char **strv_copy(char *const *l) {
        _cleanup_strv_free_ char **c = calloc(strv_length(l) + 1, sizeof(char *));
        size_t i = 0;

        if (!c)
                return NULL;
        STRV_FOREACH(s, l) {
                c[i] = strdup(*s);
                if (!c[i])
                        return NULL;
                i++;
        }
        return TAKE_PTR(c);
}

bool strv_contains(char *const *l, const char *s) {
        STRV_FOREACH(i, l)
                if (strcmp(*i, s) == 0)
                        return true;
        return false;
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l) {
        size_t n = strv_length(l);

        if (n > 1)
                qsort(l, n, sizeof(char *), cmp_str);
}

void strv_uniq(char **l) {
        size_t w = 0;

        if (!l || !l[0])
                return;
        for (size_t r = 1; l[r]; r++) {
                if (strcmp(l[w], l[r]) == 0)
                        free(l[r]);
                else
                        l[++w] = l[r];
        }
        l[w + 1] = NULL;
}

char *strv_join(char *const *l, const char *sep) {
        size_t n = 0, k = strlen(sep);
        char *r, *p;

        STRV_FOREACH(s, l)
                n += strlen(*s) + k;
        r = p = malloc(n + 1);
        if (!r)
                return NULL;
        STRV_FOREACH(s, l) {
                if (s != l)
                        p = stpcpy(p, sep);
                p = stpcpy(p, *s);
        }
        *p = 0;
        return r;
}
