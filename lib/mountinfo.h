/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one reader of /proc/self/mountinfo. It goes through libmount, which
 * decodes the octal escapes of paths ("\040" for a space; rkt's gc did not,
 * docs/security.md, "Removing pods"): never sscanf() on mountinfo.
 */

#include <libmount.h>
#include <stdbool.h>
#include <stddef.h>

/* Called for each mount, in mountinfo's order. Return 0 to go on, > 0 to
 * stop (mountinfo_foreach() then returns that value), < 0 to fail with it. */
typedef int (*mountinfo_func_t)(struct libmnt_fs *fs, void *userdata);

/* Walks the mounts of our mount namespace. Returns 0 after the last one,
 * what `f` stopped with, or -errno. */
int mountinfo_foreach(mountinfo_func_t f, void *userdata);

/* `target` is `prefix` (of length `len`) or below it: separator-aware, so
 * that "/x/pod" is not below "/x/po". */
bool mountinfo_path_is_below(const char *target, const char *prefix, size_t len);

/* The mount has the option `name`: "name=value" with exactly `value`, or,
 * when `value` is NULL, a plain "name" (a v1 cgroup controller, say). */
bool mountinfo_has_option(struct libmnt_fs *fs, const char *name, const char *value);

/* Mount points at or below the absolute, canonical `path`, relative to it
 * ("" for `path` itself, else "a/b"), sorted and without duplicates (a
 * recursive bind shows each volume twice). Returns 0 or -errno. */
int mountinfo_below(const char *path, char ***ret);
