/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Volume and runtime bind mounts (docs/volumes.md), made with the new mount
 * API so that each step works on descriptors:
 *
 *  1. the source is cloned into a detached tree (open_tree(OPEN_TREE_CLONE),
 *     with AT_RECURSIVE for a recursive volume): nothing is mounted anywhere
 *     yet;
 *  2. a read-only volume is made read-only on that detached tree, on every
 *     mount of it (mount_setattr(AT_RECURSIVE)): when it appears in the app
 *     it has never been writable, not even for an instant (nspawn's and
 *     rkt's bind-then-remount had that window); its propagation is made
 *     slave, so nothing mounted in the pod goes back to the host;
 *  3. the target is resolved inside the app root with chase_in_root() and
 *     created if allowed (a directory, or an empty file for a file source),
 *     and the tree is attached to the fd of the result (move_mount): a
 *     symlink planted by the image or the app cannot send it elsewhere.
 */

#include <stdbool.h>
#include <sys/types.h>

typedef enum BindMountFlags {
        BIND_MOUNT_RECURSIVE = 1 << 0, /* with what is mounted below the source */
        BIND_MOUNT_READ_ONLY = 1 << 1, /* read-only, on every mount of the tree */
        BIND_MOUNT_MKDIR = 1 << 2,     /* create a missing target and its parents */
} BindMountFlags;

/* The detached tree of `path` (absolute, or relative to `dirfd`; "" for
 * `dirfd` itself), with the flags' recursion and read-only-ness; its fd in
 * *ret_tree. */
int bind_mount_clone(int dirfd, const char *path, BindMountFlags flags, int *ret_tree);

/* Attaches `tree` at `target` resolved below `rootfd` (docs/volumes.md,
 * "Where a target lands"). The target must be of the source's kind (a
 * directory for a directory, a non-directory otherwise: -ENOTDIR/-EISDIR),
 * and must not be the root itself (-EBUSY). The resolved path goes to
 * *ret_path when that is not NULL. */
int bind_mount_attach(int tree, int rootfd, const char *target, BindMountFlags flags, char **ret_path);

/* Unmounts what is mounted at `target` resolved below `rootfd` (the whole
 * tree of a recursive bind), through the fd of what was resolved (umount2()
 * takes only a path: /proc/self/fd/N, or "N" relative to `proc_fd_dir`, an
 * fd of our /proc/self/fd opened before joining a mount namespace whose
 * /proc does not show us; -1: /proc/self/fd). -EINVAL if nothing is
 * mounted there. The resolved path goes to *ret_path when not NULL. */
int bind_mount_detach(int rootfd, const char *target, int proc_fd_dir, char **ret_path);


/* The names of the host volumes of `pod` (pod volumes and the apps' own)
 * whose source is a device node, as render wants them
 * (RenderOptions.device_volumes); a missing source is not an error here
 * (the mount reports it). NULL-terminated, in *ret. */
struct Pod;
int bind_mount_device_volumes(const struct Pod *pod, char ***ret);
