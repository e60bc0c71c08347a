/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>

#include "fd-util.h"

int fd_open_in_root(int rootfd, const char *path, int flags, mode_t mode, bool no_symlinks) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC),
                .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (no_symlinks ? RESOLVE_NO_SYMLINKS : 0),
        };
        int fd;

        if (rootfd < 0 || !path)
                return -EBADF;
        /* The kernel treats a leading '/' as the root given: fine, but be explicit. */
        while (*path == '/')
                path++;
        if (!*path)
                path = ".";
        do
                fd = (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN); /* a concurrent rename raced the lookup */
        return fd < 0 ? negative_errno() : fd;
}

int fd_open_dir_nofollow(int dirfd, const char *name, int extra_flags) {
        int fd = openat(dirfd, name, O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | extra_flags);

        return fd < 0 ? negative_errno() : fd;
}

int fd_mkdir_open(int dirfd, const char *name, mode_t mode, int extra_flags) {
        if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return negative_errno();
        return fd_open_dir_nofollow(dirfd, name, extra_flags);
}

int fd_write_all(int fd, const void *data, size_t size) {
        const char *p = data;

        while (size > 0) {
                ssize_t n = write(fd, p, size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        return -EIO;
                p += n;
                size -= (size_t) n;
        }
        return 0;
}

int fd_read_all(int fd, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;

        for (;;) {
                ssize_t n;

                if (cap - size < 4096) {
                        size_t ncap = cap ? cap * 2 : 8192;
                        char *nb;

                        if (ncap > max + 1)
                                ncap = max + 1;
                        if (ncap <= size)
                                return -EFBIG;
                        nb = realloc(buf, ncap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = ncap;
                }
                n = read(fd, buf + size, cap - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

int fd_read_regular(int fd, size_t max, char **ret, size_t *ret_size, struct timespec *ret_mtime) {
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t size = 0;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        buf = malloc((size_t) st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        /* What it held when we looked: a file that grows meanwhile is cut
         * there, one that shrinks gives what is left. */
        while (size < (size_t) st.st_size) {
                ssize_t n = read(fd, buf + size, (size_t) st.st_size - size);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        if (ret_mtime)
                *ret_mtime = st.st_mtim;
        return 0;
}

int fd_read_file_in_root(int rootfd, const char *path, size_t max, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = -1;

        /* O_NONBLOCK: opening a FIFO planted in the image must not hang us;
         * the S_ISREG check then refuses it. */
        fd = fd_open_in_root(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0, false);
        if (fd < 0)
                return fd;
        return fd_read_regular(fd, max, ret, ret_size, NULL);
}

int fd_write_file_atomic(int dirfd, const char *name, const void *data, size_t size, mode_t mode) {
        return fd_write_file_atomic_flags(dirfd, name, data, size, mode, 0);
}

int fd_write_file_atomic_flags(int dirfd, const char *name, const void *data, size_t size, mode_t mode,
                               WriteFlags flags) {
        _cleanup_close_ int fd = -1;
        char tmp[NAME_MAX + 1];
        uint64_t rnd;
        int r;

        if (!name || !*name || strchr(name, '/') || strlen(name) > NAME_MAX - 20)
                return -EINVAL;
        if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                rnd = (uint64_t) getpid() ^ (uint64_t) (uintptr_t) &rnd;
        (void) snprintf(tmp, sizeof(tmp), ".%s.%016llx", name, (unsigned long long) rnd);

        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return negative_errno();
        r = fd_write_all(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = negative_errno();
        if (r >= 0 && (flags & WRITE_DURABLE) && fsync(fd) < 0)
                r = negative_errno();
        if (close(TAKE_FD(fd)) < 0 && r >= 0)
                r = negative_errno();
        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        if (flags & WRITE_DURABLE)
                (void) fsync(dirfd); /* the rename is done; a failed directory sync loses durability only */
        return 0;
}

bool fd_statx_is_other_mount(const struct statx *child, const struct statx *top) {
        if ((child->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
            (child->stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return true;
        if ((child->stx_mask & STATX_MNT_ID) && (top->stx_mask & STATX_MNT_ID))
                return child->stx_mnt_id != top->stx_mnt_id;
        return child->stx_dev_major != top->stx_dev_major || child->stx_dev_minor != top->stx_dev_minor;
}

int fd_statx_nofollow(int dirfd, const char *name, struct statx *ret) {
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH),
                  STATX_TYPE | STATX_INO | STATX_MNT_ID, ret) < 0)
                return negative_errno();
        return 0;
}

int fd_open_dir_checked(int dirfd, const char *name, const struct statx *sx) {
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_ino != sx->stx_ino || major(st.st_dev) != sx->stx_dev_major ||
            minor(st.st_dev) != sx->stx_dev_minor)
                return -ESTALE;
        return TAKE_FD(fd);
}

int fd_mkdir_p(int dirfd, const char *path, mode_t mode, int *ret_fd) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int cur = -1;
        char *save = NULL;

        if (!copy)
                return -ENOMEM;
        cur = path[0] == '/' ? open("/", O_PATH | O_DIRECTORY | O_CLOEXEC) : fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return negative_errno();
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next = fd_mkdir_open(cur, c, mode, O_PATH);

                if (next < 0)
                        return next;
                closep(&cur);
                cur = next;
        }
        if (ret_fd)
                *ret_fd = TAKE_FD(cur);
        return 0;
}

static int int_cmp(const void *a, const void *b) {
        int x = *(const int *) a, y = *(const int *) b;

        return (x > y) - (x < y);
}

int fd_close_all_except(const int *keep, size_t n_keep) {
        int sorted[16];
        unsigned from = 0;

        if (n_keep > ELEMENTSOF(sorted))
                return -E2BIG;
        memcpy(sorted, keep, n_keep * sizeof(int));
        qsort(sorted, n_keep, sizeof(int), int_cmp);
        for (size_t i = 0; i < n_keep; i++) {
                if (sorted[i] < 0 || (unsigned) sorted[i] < from)
                        continue;
                if ((unsigned) sorted[i] > from && syscall(SYS_close_range, from, (unsigned) sorted[i] - 1, 0) < 0)
                        return negative_errno();
                from = (unsigned) sorted[i] + 1;
        }
        if (syscall(SYS_close_range, from, ~0U, 0) < 0)
                return negative_errno();
        return 0;
}

int fd_readlink(int dirfd, const char *name, char **ret) {
        for (size_t size = 256;; size *= 2) {
                _cleanup_free_ char *buf = malloc(size);
                ssize_t n;

                if (!buf)
                        return -ENOMEM;
                n = readlinkat(dirfd, name, buf, size);
                if (n < 0)
                        return negative_errno();
                if ((size_t) n < size) {
                        buf[n] = 0;
                        *ret = TAKE_PTR(buf);
                        return 0;
                }
                if (size >= PATH_MAX)
                        return -ENAMETOOLONG;
        }
}
