/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Which mount points of our mount namespace lie at or below a path: nspawn
 * puts an app's volumes there before prepare-app runs, and prepare-app must
 * not hide them. Read with libmount (conventions: never sscanf mountinfo;
 * libmount decodes the \040-style escapes of paths). */

/* Mount points at or below the absolute, canonical `path`, relative to it
 * ("" for `path` itself, else "a/b"), sorted and without duplicates (a
 * recursive bind shows each volume twice). Returns 0 or -errno. */
int mountinfo_below(const char *path, char ***ret);
