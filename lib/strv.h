/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* NULL-terminated string vectors. A NULL strv is the empty vector. */

char **strv_free(char **l);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

size_t strv_length(char *const *l);
/* Appends `value`, taking ownership of it; frees it on failure. */
int strv_consume(char ***l, char *value);
/* Appends a copy of `value`. */
int strv_extend(char ***l, const char *value);
int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
/* Returns a deep copy, or NULL on out-of-memory (a NULL input gives an empty vector). */
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);
void strv_sort(char **l);
/* Removes adjacent duplicates of a sorted vector, in place. */
void strv_uniq(char **l);
/* Joins with `sep`; NULL on out-of-memory. */
char *strv_join(char *const *l, const char *sep);
