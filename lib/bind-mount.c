/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind-mount.h"
#include "chase.h"
#include "fd-util.h"
#include "macro.h"
#include "manifest.h"
#include "strv.h"

int bind_mount_clone(int dirfd, const char *path, BindMountFlags flags, int *ret_tree) {
        unsigned oflags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
        _cleanup_close_ int tree = -1;
        bool ro = flags & BIND_MOUNT_READ_ONLY;

        if (flags & BIND_MOUNT_RECURSIVE)
                oflags |= AT_RECURSIVE;
        if (!*path)
                oflags |= AT_EMPTY_PATH;
        tree = open_tree(dirfd, path, oflags);
        if (tree < 0)
                return negative_errno();

        /* Before the tree is attached anywhere (see the header). */
        struct mount_attr attr = {
                .attr_set = ro ? MOUNT_ATTR_RDONLY : 0,
                .propagation = ro ? MS_PRIVATE : MS_SLAVE,
        };

        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0) {
                /* A tree cloned from a private mount cannot be a slave;
                 * private is as good then, but read-only must hold. */
                attr.propagation = MS_PRIVATE;
                if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                        return negative_errno();
        }
        *ret_tree = TAKE_FD(tree);
        return 0;
}

int bind_mount_resolve(int tree, int rootfd, const char *target, BindMountFlags flags, int *ret_fd, char **ret_path) {
        _cleanup_free_ char *resolved = NULL;
        _cleanup_close_ int fd = -1;
        struct stat src, dst;
        ChaseFlags cf = 0;
        int r;

        if (fstat(tree, &src) < 0)
                return negative_errno();
        if (flags & BIND_MOUNT_MKDIR)
                cf = CHASE_MKDIR | (S_ISDIR(src.st_mode) ? CHASE_CREATE_DIR : CHASE_CREATE_FILE);
        r = chase_in_root(rootfd, target, cf, &fd, &resolved);
        if (r < 0)
                return r;
        if (strcmp(resolved, "/") == 0)
                return -EBUSY;
        if (fstat(fd, &dst) < 0)
                return negative_errno();
        if (S_ISDIR(src.st_mode) && !S_ISDIR(dst.st_mode))
                return -ENOTDIR;
        if (!S_ISDIR(src.st_mode) && S_ISDIR(dst.st_mode))
                return -EISDIR;
        *ret_fd = TAKE_FD(fd);
        if (ret_path)
                *ret_path = TAKE_PTR(resolved);
        return 0;
}

int bind_mount_id(int fd, uint64_t *ret_id, bool *ret_is_root) {
        struct statx sx;

        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        if (ret_id)
                *ret_id = sx.stx_mnt_id;
        if (ret_is_root)
                *ret_is_root = (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                               (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        return 0;
}

int bind_mount_attach(int tree, int target_fd, uint64_t *ret_id) {
        if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return negative_errno();
        /* The tree's fd now names the attached mount. */
        return ret_id ? bind_mount_id(tree, ret_id, NULL) : 0;
}

int bind_mount_at(int tree, int rootfd, const char *target, BindMountFlags flags, char **ret_path) {
        _cleanup_free_ char *resolved = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        r = bind_mount_resolve(tree, rootfd, target, flags, &fd, &resolved);
        if (r < 0)
                return r;
        r = bind_mount_attach(tree, fd, NULL);
        if (r < 0)
                return r;
        if (ret_path)
                *ret_path = TAKE_PTR(resolved);
        return 0;
}

int bind_mount_detach(int fd, int proc_fd_dir) {
        char proc[64];

        /* By the fd resolved, not by a path: the mount on exactly that
         * inode goes, with whatever is mounted below it. */
        if (proc_fd_dir >= 0) {
                if (fchdir(proc_fd_dir) < 0)
                        return negative_errno();
                snprintf(proc, sizeof(proc), "%d", fd);
        } else
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        if (umount2(proc, MNT_DETACH) < 0)
                return negative_errno();
        return 0;
}

static int note_device(const Volume *v, char ***l) {
        struct stat st;

        if (v->kind != VOLUME_HOST || stat(v->source, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                return 0;
        if (strv_contains(*l, v->source))
                return 0;
        return strv_extend(l, v->source);
}

int bind_mount_device_sources(const Pod *pod, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < pod->n_volumes; i++)
                if ((r = note_device(&pod->volumes[i], &l)) < 0)
                        return r;
        for (size_t i = 0; i < pod->n_apps; i++)
                for (size_t j = 0; j < pod->apps[i].n_mounts; j++)
                        if (pod->apps[i].mounts[j].app_volume &&
                            (r = note_device(pod->apps[i].mounts[j].app_volume, &l)) < 0)
                                return r;
        *ret = TAKE_PTR(l);
        return 0;
}
