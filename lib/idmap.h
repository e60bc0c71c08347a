/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * User-namespaced pods (docs/security.md, "User namespaces"): the pod's
 * uids and gids 0..RANGE-1 are the host's SHIFT..SHIFT+RANGE-1. The image
 * store is never chowned: the pod's trees are seen through idmapped mounts
 * (Linux 5.12, mount_setattr(MOUNT_ATTR_IDMAP)), which show a file owned
 * by uid N on disk as owned by SHIFT+N, and write SHIFT+N back as N.
 */

/* The ranges "pick" chooses from: [IDMAP_SHIFT_MIN, IDMAP_SHIFT_MAX], in
 * steps of IDMAP_RANGE (nspawn's own "pick" range, systemd 252:
 * 0x00080000..0x6FFF0000). */
#define IDMAP_RANGE UINT32_C(0x10000)
#define IDMAP_SHIFT_MIN UINT32_C(0x00080000)
#define IDMAP_SHIFT_MAX UINT32_C(0x6FFF0000)

/* The on-disk owner of what the host's root creates through an idmapped
 * mount (nspawn's convention, systemd 251: its own files in the pod's tree,
 * which it then chowns to the shift, i.e. to on-disk 0). */
#define IDMAP_HOST_ROOT_ON_DISK UINT32_C(2147483646)

/* Parses --private-users's value: "SHIFT:RANGE" or "SHIFT" (RANGE 65536).
 * Both multiples of 65536, SHIFT > 0, RANGE <= SHIFT, RANGE below
 * IDMAP_HOST_ROOT_ON_DISK, SHIFT+RANGE below the host's overflow ids;
 * -EINVAL otherwise. */
int idmap_parse(const char *s, uint32_t *ret_shift, uint32_t *ret_range);

/* A user namespace for MOUNT_ATTR_IDMAP, as an fd (O_CLOEXEC); no process
 * stays in it. Its uid and gid maps: "0 SHIFT RANGE" (the pod's ids) and
 * IDMAP_HOST_ROOT_ON_DISK as the host's root, who can then still create
 * files through the mount (systemd-nspawn does, setting the pod up). */
int idmap_userns(uint32_t shift, uint32_t range, int *ret_fd);

/* Gives the detached tree `tree` (open_tree(OPEN_TREE_CLONE)) the
 * idmapping of `userns_fd`, with its submounts if `recursive`. */
int idmap_tree(int tree, int userns_fd, bool recursive);

/* Replaces the tree at `path` of `dirfd` ("": `dirfd` itself, no path
 * followed) (with its submounts if `recursive`) by an idmapped clone of
 * itself, mounted on top. Fails with
 * -EINVAL/-EPERM/-EOPNOTSUPP where the kernel or a file system in the tree
 * cannot idmap (or it is idmapped already); nothing is mounted then. */
int idmap_remount(int dirfd, const char *path, int userns_fd, bool recursive);

/* The run writes into an idmapped pod tree as the pod's root: file system
 * uid and gid `shift`, so that what it creates is on-disk 0 (root's in the
 * pod), with its file capabilities kept (setfsuid() drops them). Host
 * files must not be created meanwhile: they would be the shift's.
 * idmap_unbecome() returns to the host's root. */
int idmap_become(uint32_t shift);
void idmap_unbecome(void);

/* Takes the lock of the ids [shift, shift+range) for as long as the
 * returned fd (O_CLOEXEC; pass it on to keep it) is open: a lock file
 * /run/nspawn-pod/userns/SHIFT-RANGE, never two live pods in overlapping
 * ranges. -EBUSY if a running pod holds one that overlaps. */
int idmap_lock(uint32_t shift, uint32_t range, int *ret_fd);

/* Removes the lock file and closes `lock_fd` (nothing if < 0). */
void idmap_unlock(uint32_t shift, uint32_t range, int lock_fd);

/* For a tree a stage0 rendered with shifted owners (rkt's stage0 with
 * --private-users): every inode below `dirfd` owned by an unshifted id of
 * the pod's (below `range`: what the run made there) gets that id plus
 * `shift`, set-id bits kept. Symlinks are not followed, mounts not
 * entered, and relative paths matching one of the fnmatch(FNM_PATHNAME)
 * patterns of `skip` are left as they are. */
int idmap_shift_tree(int dirfd, uint32_t shift, uint32_t range, char *const *skip);

/* Picks a free range (a random one, then the next free), locks it: -EBUSY
 * if all are taken. */
int idmap_pick(uint32_t *ret_shift, int *ret_lock_fd);
