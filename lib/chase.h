/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Resolving a path inside a tree we do not trust (an app root) the way
 * `readlink -m` would with that tree as "/", on file descriptors, creating
 * what is missing on the way (docs/volumes.md, "Where a target lands").
 *
 * Why not openat2(RESOLVE_IN_ROOT): it cannot create the missing parts, and
 * a mount target usually is partly missing. So the walk is ours:
 *
 *  - one component at a time, each opened O_PATH|O_NOFOLLOW below the fd of
 *    the one before: no path string is ever handed to the kernel whole;
 *  - a symlink is read through its own fd and its target put in front of
 *    what is left; an absolute one restarts at the root;
 *  - ".." pops a stack of the fds we walked down, so it never climbs above
 *    the root, and never through a directory the tree's owner has moved
 *    meanwhile (we do not ask the filesystem for "..");
 *  - at most CHASE_SYMLINKS_MAX symlinks are followed (-ELOOP);
 *  - missing components are created as directories (0755), the last one as
 *    a directory or an empty file when asked, with O_EXCL/mkdirat, then
 *    opened again without following: what was created is what we hold.
 *
 * What the caller gets is an O_PATH fd of the result: a mount is attached
 * to that fd (move_mount), not to a path that could be swapped under it.
 */

#include <stdbool.h>

/* rkt's limit (stage1's EvaluateSymlinksInsideApp) was 255; the kernel's is 40. */
#define CHASE_SYMLINKS_MAX 40

typedef enum ChaseFlags {
        CHASE_MKDIR = 1 << 0,       /* create missing components as directories, 0755 */
        CHASE_CREATE_DIR = 1 << 1,  /* with CHASE_MKDIR: the last one too (else it must exist) */
        CHASE_CREATE_FILE = 1 << 2, /* with CHASE_MKDIR: the last one as an empty file, 0644 */
} ChaseFlags;

/* Resolves `path` (absolute or relative: both taken from `rootfd`) below
 * `rootfd`. Returns 0 with an O_PATH|O_CLOEXEC fd of the result in
 * `*ret_fd` and, if `ret_path` is not NULL, the resolved path ("/" for the
 * root, else "/a/b") in `*ret_path`; or -errno: -ENOENT for a missing
 * component that was not to be created, -ENOTDIR for a non-directory on the
 * way, -ELOOP for too many symlinks. Nothing is followed out of `rootfd`. */
int chase_in_root(int rootfd, const char *path, ChaseFlags flags, int *ret_fd, char **ret_path);
