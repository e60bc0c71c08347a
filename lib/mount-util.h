/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Unmounting everything below a pod directory, for gc and rm
 * (docs/security.md, "Removing pods"):
 *
 *  - mounts are read from /proc/self/mountinfo with libmount, which decodes
 *    its escapes (a space is "\040" there), and selected by a
 *    separator-aware prefix match: "/x/pod" matches "/x/pod" and "/x/pod/…",
 *    never "/x/pod2";
 *  - each one is made private (MS_PRIVATE|MS_REC) before anything is
 *    unmounted: unmounting a shared mount propagates to its peers, which
 *    can be the host's own mounts (rkt#3546);
 *  - they are unmounted deepest first, one round after another while any
 *    are left (stacked mounts, mounts hidden under others), with
 *    MNT_DETACH when one is busy;
 *  - no path is ever followed out of the directory: each mount point is
 *    opened from the directory's fd with openat2(RESOLVE_BENEATH |
 *    RESOLVE_NO_SYMLINKS), checked to be that very mount (its mount id, from
 *    statx), and then made private and unmounted through /proc/self/fd/N,
 *    i.e. by the file descriptor, not by a path a process in the pod could
 *    redirect with a symlink between the check and the system call. A
 *    mount point that cannot be reached that way is left alone (and
 *    reported).
 */

/* Unmounts every mount at or below the directory `name` (one component) of
 * `parent_fd`, in the caller's mount namespace; the directory itself may be
 * a mount point. Returns the number of mounts unmounted (0: there were
 * none), or -errno: -EBUSY if mounts are left that could not be unmounted
 * or reached safely. Idempotent. */
int mount_umount_beneath(int parent_fd, const char *name);

/* The number of mounts at or below `name` of `parent_fd` (0 if none), or -errno. */
int mount_count_beneath(int parent_fd, const char *name);
