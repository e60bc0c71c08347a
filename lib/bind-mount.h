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
 *     rkt's bind-then-remount had that window). Its propagation is cut: a
 *     read-write tree becomes a slave (the host's later mounts below the
 *     source come in, the pod's never go out), a read-only one private (a
 *     writable mount the host adds later must not appear in it);
 *  3. the target is resolved inside the app root with chase_in_root() and
 *     created if allowed (a directory, or an empty file for a file source),
 *     and the tree is attached to the fd of the result (move_mount): a
 *     symlink planted by the image or the app cannot send it elsewhere.
 */

#include <stdbool.h>
#include <stdint.h>
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

/* Resolves `target` below `rootfd` (docs/volumes.md, "Where a target lands")
 * for a source of the type of `tree`, creating it with BIND_MOUNT_MKDIR. It
 * must be of the source's kind (a directory for a directory, a
 * non-directory otherwise: -ENOTDIR/-EISDIR) and not the root itself
 * (-EBUSY). An O_PATH fd of it in *ret_fd, the resolved path in *ret_path. */
int bind_mount_resolve(int tree, int rootfd, const char *target, BindMountFlags flags, int *ret_fd, char **ret_path);

/* Attaches `tree` on the resolved `target_fd`; the new mount's id
 * (statx STATX_MNT_ID) in *ret_id when not NULL. */
int bind_mount_attach(int tree, int target_fd, uint64_t *ret_id);

/* Resolve and attach in one (the pod start's volumes). */
int bind_mount_at(int tree, int rootfd, const char *target, BindMountFlags flags, char **ret_path);

/* The id of the mount `fd` is on, and whether `fd` is that mount's root. */
int bind_mount_id(int fd, uint64_t *ret_id, bool *ret_is_root);

/* Unmounts the mount whose root `fd` is (the whole tree of a recursive
 * bind), through that fd: umount2() takes only a path, so /proc/self/fd/N,
 * or "N" relative to `proc_fd_dir`, an fd of our /proc/self/fd opened
 * before joining a mount namespace whose /proc does not show us (-1:
 * /proc/self/fd). */
int bind_mount_detach(int fd, int proc_fd_dir);

/* The host sources of `pod`'s host volumes (pod volumes and the apps' own)
 * that are device nodes, as render wants them
 * (RenderOptions.device_sources); a missing source is not an error here
 * (the mount reports it). NULL-terminated, in *ret. */
struct Pod;
int bind_mount_device_sources(const struct Pod *pod, char ***ret);
