/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy.h"
#include "fd-util.h"
#include "macro.h"

static int copy_data(int in, int out) {
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, SIZE_MAX >> 2, 0);

                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (!IN_SET(errno, EXDEV, EINVAL, ENOSYS, EOPNOTSUPP))
                        return negative_errno();
                break;
        }
        /* Across file systems the kernel may refuse: copy by hand. */
        char buf[64 * 1024];

        for (;;) {
                ssize_t n = read(in, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return 0;
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = write(out, buf + done, n - done);

                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return negative_errno();
                        done += w;
                }
        }
}

/* Owner, mode and times of the new `name` below `dstfd` from `st`; the mode
 * after the owner, since chown clears set-id bits. */
static int copy_attrs(int dstfd, const char *name, int fd, const struct stat *st) {
        struct timespec ts[2] = { st->st_atim, st->st_mtim };

        if (fd >= 0) {
                if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0 ||
                    futimens(fd, ts) < 0)
                        return negative_errno();
                return 0;
        }
        if (fchownat(dstfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (!S_ISLNK(st->st_mode) && fchmodat(dstfd, name, st->st_mode & 07777, 0) < 0)
                return negative_errno();
        if (utimensat(dstfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return 0;
}

static int copy_dir(int srcfd, int dstfd, dev_t dev, unsigned depth);

static int copy_entry(int srcdir, int dstdir, const char *name, dev_t dev, unsigned depth) {
        struct stat st;
        int r;

        if (fstatat(srcdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        /* What is mounted below the tree (another volume, say) is not the
         * image's content: neither copied nor entered. */
        if (st.st_dev != dev)
                return 0;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_close_ int s = -1, d = -1;

                s = openat(srcdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (s < 0)
                        return negative_errno();
                if (mkdirat(dstdir, name, 0700) < 0)
                        return negative_errno();
                d = openat(dstdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (d < 0)
                        return negative_errno();
                r = copy_dir(s, d, dev, depth + 1);
                if (r < 0)
                        return r;
                return copy_attrs(dstdir, name, d, &st);
        }
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int s = -1, d = -1;

                s = openat(srcdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (s < 0)
                        return negative_errno();
                d = openat(dstdir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (d < 0)
                        return negative_errno();
                r = copy_data(s, d);
                if (r < 0)
                        return r;
                return copy_attrs(dstdir, name, d, &st);
        }
        if (S_ISLNK(st.st_mode)) {
                _cleanup_free_ char *target = NULL;

                r = fd_readlink(srcdir, name, &target);
                if (r < 0)
                        return r;
                if (symlinkat(target, dstdir, name) < 0)
                        return negative_errno();
                return copy_attrs(dstdir, name, -1, &st);
        }
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode)) {
                if (mknodat(dstdir, name, st.st_mode & (S_IFMT | 0600), st.st_rdev) < 0)
                        return negative_errno();
                return copy_attrs(dstdir, name, -1, &st);
        }
        return 0; /* a socket: meaningless without its listener */
}

static int copy_dir(int srcfd, int dstfd, dev_t dev, unsigned depth) {
        _cleanup_close_ int dup_fd = -1;
        DIR *d;
        int r = 0;

        if (depth > COPY_DEPTH_MAX)
                return -ELOOP;
        dup_fd = openat(srcfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d)
                return negative_errno();
        TAKE_FD(dup_fd);
        for (;;) {
                struct dirent *de;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                r = negative_errno();
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                r = copy_entry(dirfd(d), dstfd, de->d_name, dev, depth);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r;
}

int copy_tree_at(int srcfd, int dstfd) {
        struct stat st;

        if (fstat(srcfd, &st) < 0)
                return negative_errno();
        return copy_dir(srcfd, dstfd, st.st_dev, 0);
}
