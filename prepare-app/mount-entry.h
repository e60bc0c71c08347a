/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A mount prepare-app makes, declared as data (bubblewrap's list of setup
 * operations): what to mount, onto which path below a directory fd, and how.
 * mount_entry_apply() carries one out with the new mount API and is the one
 * place that reports a failure, naming the paths involved.
 *
 * Safety argument (docs/security.md, "Paths inside untrusted trees"; docs/helpers.md): sources are paths of the stage1,
 * which the app cannot reach or change. Targets lie in the app root, which
 * the image controls, so they are never joined into path strings: every
 * component is opened below the base fd with O_NOFOLLOW (mkdirat/openat
 * O_EXCL to create), and the mount is attached to the final fd with
 * move_mount(MOVE_MOUNT_T_EMPTY_PATH). A symlink planted anywhere on the way
 * makes the entry fail instead of redirecting it into the stage1.
 */

#include <stdbool.h>
#include <stdint.h>

typedef enum MountKind {
        MOUNT_BIND,  /* a clone (open_tree) of the stage1 path `source` */
        MOUNT_FRESH, /* a new instance of the file system type `source` (fsopen) */
} MountKind;

typedef enum MountFlags {
        MOUNT_RECURSIVE = 1 << 0,   /* MOUNT_BIND: include everything mounted below `source` */
        MOUNT_READ_ONLY = 1 << 1,   /* read-only before it is attached (the whole tree with MOUNT_RECURSIVE) */
        MOUNT_OPTIONAL = 1 << 2,    /* a missing `source` skips the entry */
        MOUNT_CHAR_DEVICE = 1 << 3, /* `source` must be a character device `major`:`minor` */
        MOUNT_FILE = 1 << 4,        /* the target is a regular file, created empty (0644) if missing;
                                       otherwise a directory, created 0755 if missing */
        MOUNT_FOLLOW = 1 << 5,      /* `source` may be a symlink in the stage1 (followed) */
        MOUNT_EXISTING = 1 << 6,    /* the target must already exist (any type but a symlink; resolved
                                       with RESOLVE_NO_SYMLINKS, nothing created): a missing one skips
                                       the entry. MOUNT_FILE is ignored */
        MOUNT_SELF = 1 << 7,        /* MOUNT_BIND of the target onto itself (with MOUNT_EXISTING; the
                                       clone is taken from the target's fd); `source` only names it in
                                       messages */
} MountFlags;

typedef struct MountEntry {
        const char *source;  /* MOUNT_BIND: absolute stage1 path; MOUNT_FRESH: file system type */
        const char *target;  /* relative to the base fd, '/'-separated, no "." or ".." */
        MountKind kind;
        MountFlags flags;
        const char *options; /* MOUNT_FRESH: "key=value,flag,…" for fsconfig(); may be NULL */
        uint64_t attr;       /* MOUNT_FRESH: MOUNT_ATTR_* for fsmount() */
        unsigned major, minor;
        uint64_t fs_magic;   /* what fstatfs() must say at the target afterwards; 0: not checked */
} MountEntry;

/* Opens (creating what is missing) the target `path` below `basefd` as
 * mount_entry_apply() does: every component O_NOFOLLOW, directories 0755,
 * a final regular file (with `file`) created empty 0644. Returns an O_PATH
 * fd or -errno: -ELOOP/-ENOTDIR when a component is a symlink or not a
 * directory, -EEXIST when a final file exists but is not a regular file. */
int mount_target_open(int basefd, const char *path, bool file);

/* Mounts `e` below `basefd`. `base_name` is only used in messages (the
 * path of `basefd` as people know it). Returns 1 when mounted, with
 * `*ret_fd` (if not NULL) an fd of the attached mount's root; 0 when skipped
 * (MOUNT_OPTIONAL source missing, MOUNT_EXISTING target missing); -errno
 * after logging the failure. */
int mount_entry_apply(const MountEntry *e, int basefd, const char *base_name, int *ret_fd);

/* Makes the detached clone `tree` (and with `recursive` everything below it)
 * a slave of what it was cloned from instead of a peer. Returns 0 or -errno. */
int mount_make_slave(int tree, bool recursive);

/* The mount id of what `fd` refers to: the 64-bit unique id where the kernel
 * has one (6.8+), else the reusable 32-bit one. */
int fd_mount_id(int fd, uint64_t *ret);
