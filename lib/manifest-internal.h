/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Shared between lib/manifest.c (the PodManifest / ImageManifest walk) and
 * lib/manifest-isolator.c (isolator values). Not part of the library's API:
 * nothing outside lib/manifest*.c sees jansson.
 *
 * Every helper works at the context's current JSON path; the get_* variants
 * look a key up in an object, push it onto the path, check it and pop it
 * again, so that an error recorded anywhere names the offending value.
 * On error they return -errno and leave the error in ctx->err; the caller
 * returns at once, so the path stays the one the error was recorded at.
 */

#include <jansson.h>

#include "manifest.h"
#include "strbuf.h"

typedef struct ManifestContext {
        NpError *err;
        StrBuf path; /* "$", "$.apps[0].app", … */
} ManifestContext;

typedef enum ManifestFlags {
        MANIFEST_REQUIRED = 1 << 0, /* missing or null is an error */
        MANIFEST_NONEMPTY = 1 << 1, /* strings: "" is an error; arrays: [] is an error */
} ManifestFlags;

/* Path handling: the push functions return the previous length, to be handed
 * to manifest_path_pop(). */
size_t manifest_path_push_key(ManifestContext *c, const char *key);
size_t manifest_path_push_index(ManifestContext *c, size_t i);
void manifest_path_pop(ManifestContext *c, size_t len);

/* Records "<current path>: <message>" and returns `code`. */
int manifest_error(ManifestContext *c, int code, const char *fmt, ...) _printf_(3, 4);
/* A string quoted for a message: escapes, truncated when long. NULL on OOM. */
char *manifest_quote(const char *s);
/* "expected <what>, got <a string|a number|…>" at the current path. */
int manifest_type_error(ManifestContext *c, const json_t *v, const char *what);

/* Checks that `v` is an object and has no key outside `known` (NULL-terminated). */
int manifest_check_object(ManifestContext *c, const json_t *v, const char *const *known);
/* Looks `key` up: 0 when absent or null (error with MANIFEST_REQUIRED), 1 with
 * the borrowed value in *ret. */
int manifest_field(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, json_t **ret);

/* Value-level checks at the current path. */
int manifest_string(ManifestContext *c, const json_t *v, ManifestFlags flags, char **ret);
int manifest_bool(ManifestContext *c, const json_t *v, bool *ret);
int manifest_int(ManifestContext *c, const json_t *v, int64_t min, int64_t max, int64_t *ret);

/* Field-level variants: return 0 when absent, 1 when set, -errno on error.
 * *ret is written only when set. */
int manifest_get_string(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char **ret);
int manifest_get_bool(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, bool *ret);
int manifest_get_int(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, int64_t min,
                     int64_t max, int64_t *ret);
int manifest_get_strv(ManifestContext *c, const json_t *o, const char *key, ManifestFlags flags, char ***ret);

/* An object of string values (userAnnotations, os/unix/sysctl), sorted by name. */
int manifest_string_map(ManifestContext *c, const json_t *v, NameValue **ret, size_t *ret_n);

/* manifest-isolator.c: an isolator array, with the per-app rules (known names,
 * value shapes, single-instance kinds, seccomp retain/remove conflict). */
int manifest_isolators(ManifestContext *c, const json_t *v, Isolator **ret, size_t *ret_n);
void manifest_isolators_free(Isolator *l, size_t n);
