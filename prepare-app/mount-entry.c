/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "fd-util.h"
#include "log.h"
#include "mount-entry.h"

/* Linux 6.8; newer than the kernel headers of Debian 12. */
#ifndef STATX_MNT_ID_UNIQUE
#define STATX_MNT_ID_UNIQUE 0x00004000U
#endif

int mount_make_slave(int tree, bool recursive) {
        struct mount_attr attr = { .propagation = MS_SLAVE };

        /* A clone of a shared mount is a peer of it (clone_mnt()): an
         * unmount below the clone propagates to the pod's own mounts, so
         * detaching a failed preparation took the pod's cgroup hierarchies
         * along (seen: every unit started afterwards failed with
         * 219/CGROUP; rkt#3546 is the same on the host). A slave still
         * receives what happens below its source. Attached under our shared
         * app root bind it becomes shared as well, so the app's own mount
         * namespace follows it. */
        if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
                return negative_errno();
        return 0;
}

int fd_mount_id(int fd, uint64_t *ret) {
        struct statx sx = {};

        if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_MNT_ID | STATX_MNT_ID_UNIQUE, &sx) < 0)
                return negative_errno();
        /* Both ids are requested every time, so one kernel always answers
         * with the same kind and two ids of one run are comparable. */
        if (!(sx.stx_mask & (STATX_MNT_ID | STATX_MNT_ID_UNIQUE)))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

/* Opens every directory of `path` but the last component below `basefd`,
 * each with O_NOFOLLOW, creating missing ones (0755) when `create`. Returns
 * the parent's fd and, in `*ret_last`, the last component (a pointer into
 * `buf`, a writable copy of `path` the caller provides). */
static int open_parent(int basefd, char *buf, bool create, const char **ret_last) {
        _cleanup_close_ int dirfd = -1;
        char *p = buf, *slash;

        dirfd = fcntl(basefd, F_DUPFD_CLOEXEC, 3);
        if (dirfd < 0)
                return negative_errno();
        while ((slash = strchr(p, '/'))) {
                int fd;

                *slash = 0;
                if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
                        return -EINVAL;
                fd = create ? fd_mkdir_open(dirfd, p, 0755, O_PATH) : fd_open_dir_nofollow(dirfd, p, O_PATH);
                *slash = '/';
                if (fd < 0)
                        return fd;
                closep(&dirfd);
                dirfd = fd;
                p = slash + 1;
        }
        if (!*p || strcmp(p, ".") == 0 || strcmp(p, "..") == 0)
                return -EINVAL;
        *ret_last = p;
        return TAKE_FD(dirfd);
}

int mount_target_open(int basefd, const char *path, bool file) {
        _cleanup_free_ char *buf = strdup(path);
        _cleanup_close_ int dirfd = -1, fd = -1;
        const char *name = NULL;
        struct stat st;

        if (!buf)
                return -ENOMEM;
        dirfd = open_parent(basefd, buf, true, &name);
        if (dirfd < 0)
                return dirfd;
        if (!file)
                return fd_mkdir_open(dirfd, name, 0755, O_PATH);

        /* O_EXCL|O_NOFOLLOW: never follows a symlink planted in the image
         * and never opens (and so never blocks on) a FIFO. */
        fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
                return negative_errno();
        closep(&fd);
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode))
                return -ELOOP;
        if (!S_ISREG(st.st_mode))
                return -EEXIST;
        return TAKE_FD(fd);
}

/* The kernel explains a refused fsconfig() in messages read from the fs
 * context; pass them on, they say more than EINVAL. */
static void log_fs_context(int fsfd, const char *type) {
        char msg[512];
        ssize_t n;

        while ((n = read(fsfd, msg, sizeof(msg) - 1)) > 0) {
                msg[n] = 0;
                if (n > 0 && msg[n - 1] == '\n')
                        msg[n - 1] = 0;
                log_error("%s: %s", type, msg);
        }
}

static int mount_fresh(const MountEntry *e, const char *where, int *ret) {
        _cleanup_close_ int fsfd = -1, mfd = -1;
        _cleanup_free_ char *opts = NULL;
        char *save = NULL;

        fsfd = fsopen(e->source, FSOPEN_CLOEXEC);
        if (fsfd < 0)
                return log_errno(negative_errno(), "Failed to create a %s file system for '%s'", e->source, where);
        if (e->options) {
                opts = strdup(e->options);
                if (!opts)
                        return log_errno(-ENOMEM, "Failed to set up '%s'", where);
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                        char *eq = strchr(o, '=');
                        int r;

                        if (eq) {
                                *eq = 0;
                                r = fsconfig(fsfd, FSCONFIG_SET_STRING, o, eq + 1, 0);
                        } else
                                r = fsconfig(fsfd, FSCONFIG_SET_FLAG, o, NULL, 0);
                        if (r < 0) {
                                r = negative_errno();
                                log_fs_context(fsfd, e->source);
                                return log_errno(r, "Failed to set %s option '%s' for '%s'", e->source, o, where);
                        }
                }
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
                int r = negative_errno();

                log_fs_context(fsfd, e->source);
                return log_errno(r, "Failed to create a %s file system for '%s'", e->source, where);
        }
        mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned) e->attr);
        if (mfd < 0)
                return log_errno(negative_errno(), "Failed to create a %s mount for '%s'", e->source, where);
        *ret = TAKE_FD(mfd);
        return 1;
}

/* `selffd`: with MOUNT_SELF, the target, cloned from its fd. */
static int mount_clone(const MountEntry *e, const char *where, int selffd, int *ret) {
        _cleanup_close_ int tree = -1;
        unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
        struct stat st;
        int r;

        if (e->flags & MOUNT_RECURSIVE)
                flags |= AT_RECURSIVE;
        if (!(e->flags & MOUNT_FOLLOW))
                flags |= AT_SYMLINK_NOFOLLOW;
        if (e->flags & MOUNT_SELF)
                tree = open_tree(selffd, "", flags | AT_EMPTY_PATH);
        else
                tree = open_tree(AT_FDCWD, e->source, flags);
        if (tree < 0) {
                if (errno == ENOENT && (e->flags & MOUNT_OPTIONAL))
                        return 0;
                return log_errno(negative_errno(), "Failed to clone '%s' for '%s'", e->source, where);
        }
        r = mount_make_slave(tree, e->flags & MOUNT_RECURSIVE);
        if (r < 0)
                return log_errno(r, "Failed to make the clone of '%s' a slave mount", e->source);
        if (e->flags & MOUNT_CHAR_DEVICE) {
                /* The node must be what its name says: a look-alike (a
                 * regular file, another device) would give the app
                 * something else under a trusted name (runc CVE-2025-31133). */
                if (fstat(tree, &st) < 0)
                        return log_errno(negative_errno(), "Failed to check '%s'", e->source);
                if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != e->major || minor(st.st_rdev) != e->minor) {
                        log_error("Refusing to bind '%s' on '%s': not the character device %u:%u", e->source, where,
                                e->major, e->minor);
                        return -ENODEV;
                }
        }
        *ret = TAKE_FD(tree);
        return 1;
}

int mount_entry_apply(const MountEntry *e, int basefd, const char *base_name, int *ret_fd) {
        _cleanup_close_ int tree = -1, target = -1, check = -1, parent = -1;
        _cleanup_free_ char *where = NULL, *buf = NULL;
        const char *name = NULL;
        uint64_t want_id = 0, got_id = 0;
        struct statfs sfs;
        int r;

        /* Only for messages: nothing below opens this string. */
        if (asprintf(&where, "%s/%s", base_name, e->target) < 0)
                return log_errno(-ENOMEM, "Failed to set up '%s'", e->target);

        /* An existing target is opened first: a missing one skips the
         * entry before anything is made, and MOUNT_SELF clones it. */
        if (e->flags & MOUNT_EXISTING) {
                struct stat st;

                target = fd_open_in_root(basefd, e->target, O_PATH | O_NOFOLLOW, 0, true);
                if (target == -ENOENT)
                        return 0;
                if (target >= 0 && fstat(target, &st) < 0)
                        return log_errno(negative_errno(), "Failed to check the mount point '%s'", where);
                if (target >= 0 && S_ISLNK(st.st_mode)) {
                        closep(&target);
                        target = -ELOOP;
                }
                if (target == -ELOOP || target == -ENOTDIR)
                        return log_errno(target, "Failed to open the mount point '%s' (a symlink on the way)", where);
                if (target < 0)
                        return log_errno(target, "Failed to open the mount point '%s'", where);
        } else if (e->flags & MOUNT_SELF)
                return log_errno(-EINVAL, "Failed to set up '%s': a bind onto itself needs an existing target",
                                 where);

        if (e->kind == MOUNT_FRESH)
                r = mount_fresh(e, where, &tree);
        else
                r = mount_clone(e, where, target, &tree);
        if (r <= 0)
                return r;

        /* Read-only while still detached: the app root never shows a
         * writable instant, and with AT_RECURSIVE every submount too (the
         * pod's /sys carries a writable cgroup mount). */
        if (e->flags & MOUNT_READ_ONLY) {
                struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };

                if (mount_setattr(tree, "", AT_EMPTY_PATH | ((e->flags & MOUNT_RECURSIVE) ? AT_RECURSIVE : 0), &attr,
                                  sizeof(attr)) < 0)
                        return log_errno(negative_errno(), "Failed to make the mount for '%s' read-only", where);
        }

        if (!(e->flags & MOUNT_EXISTING))
                target = mount_target_open(basefd, e->target, e->flags & MOUNT_FILE);
        if (target == -ELOOP || target == -ENOTDIR || target == -EEXIST)
                return log_errno(target, "Failed to open the mount point '%s' (a symlink or the wrong file type)",
                                 where);
        if (target < 0)
                return log_errno(target, "Failed to open the mount point '%s'", where);

        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_errno(negative_errno(), "Failed to mount '%s' on '%s'", e->source, where);

        /* What the path now shows must be the mount just attached: its id,
         * and the file system type where one is expected (procfs for /proc,
         * docs/security.md, "/proc, /sys, /dev": a fake /proc must never be what the app gets). */
        buf = strdup(e->target);
        if (!buf)
                return log_errno(-ENOMEM, "Failed to check '%s'", where);
        parent = open_parent(basefd, buf, false, &name);
        if (parent >= 0)
                check = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (parent < 0 || check < 0)
                return log_errno(parent < 0 ? parent : negative_errno(), "Failed to reopen '%s' after mounting",
                                 where);
        if ((r = fd_mount_id(tree, &want_id)) < 0 || (r = fd_mount_id(check, &got_id)) < 0)
                return log_errno(r, "Failed to get the mount id of '%s'", where);
        if (want_id != got_id) {
                log_error("'%s' does not show the mount just made there (mount id %llu, expected %llu)", where,
                        (unsigned long long) got_id, (unsigned long long) want_id);
                return -EBADFD;
        }
        if (e->fs_magic != 0) {
                if (fstatfs(check, &sfs) < 0)
                        return log_errno(negative_errno(), "Failed to check the file system of '%s'", where);
                if ((uint64_t) sfs.f_type != e->fs_magic) {
                        log_error("'%s' is not the expected file system (magic 0x%llx, expected 0x%llx)", where,
                                (unsigned long long) sfs.f_type, (unsigned long long) e->fs_magic);
                        return -EBADFD;
                }
        }

        if (ret_fd)
                *ret_fd = TAKE_FD(tree);
        return 1;
}
