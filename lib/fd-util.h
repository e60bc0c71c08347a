/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Paths inside an app root (or any tree we do not trust) are resolved on file
 * descriptors, never by joining strings: openat2() with RESOLVE_IN_ROOT makes
 * "..", absolute symlinks and absolute paths stay below the root fd, so a
 * hostile image cannot redirect a write to the host (docs/security.md).
 */

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "macro.h"

/* openat2(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS
 * [| RESOLVE_NO_SYMLINKS when `no_symlinks`]). `path` may be absolute: it is
 * taken relative to `rootfd`. O_CLOEXEC is always added. Returns the fd or
 * -errno. */
int fd_open_in_root(int rootfd, const char *path, int flags, mode_t mode, bool no_symlinks);

/* Opens `name` (one component) below `dirfd` as a directory, refusing a
 * symlink: O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | `extra_flags` (O_PATH or
 * O_RDONLY). -ENOTDIR/-ELOOP for a symlink or a non-directory. */
int fd_open_dir_nofollow(int dirfd, const char *name, int extra_flags);

/* mkdirat() that treats an existing directory (not a symlink to one) as
 * success; then opens it like fd_open_dir_nofollow(). */
int fd_mkdir_open(int dirfd, const char *name, mode_t mode, int extra_flags);
/* Creates `path` (relative to `dirfd`, or absolute) and its missing
 * parents with `mode`, one component at a time on descriptors (no symlink
 * followed: fd_mkdir_open()); returns an O_PATH fd of it when `ret_fd`. */
int fd_mkdir_p(int dirfd, const char *path, mode_t mode, int *ret_fd);

/* Writes all of `data` (short writes and EINTR handled). */
int fd_write_all(int fd, const void *data, size_t size);

/* Reads everything from `fd` (files of unknown size: /proc, pipes) into a
 * NUL-terminated buffer; -EFBIG past `max` bytes. */
int fd_read_all(int fd, size_t max, char **ret, size_t *ret_size);

/* Reads the regular file open at `fd` (FIFOs, devices refused: -EBADFD;
 * larger than `max`: -EFBIG) into a NUL-terminated buffer; its mtime too
 * when `ret_mtime` is not NULL. */
int fd_read_regular(int fd, size_t max, char **ret, size_t *ret_size, struct timespec *ret_mtime);

/* Reads a regular file below `rootfd` (resolved in root, no magic links),
 * refusing anything that is not a regular file (FIFOs, devices) and files
 * larger than `max`. Returns a NUL-terminated buffer. */
int fd_read_file_in_root(int rootfd, const char *path, size_t max, char **ret, size_t *ret_size);

typedef enum WriteFlags {
        WRITE_DURABLE = 1 << 0, /* fsync the file before and the directory after the rename */
} WriteFlags;

/* Writes `data` to `dirfd`/`name` atomically: a temporary file in the same
 * directory (O_EXCL|O_NOFOLLOW), rename over `name`; with WRITE_DURABLE also
 * fsync'ed. Readers see the old or the new content, never a part; nothing is
 * left behind on failure. */
int fd_write_file_atomic_flags(int dirfd, const char *name, const void *data, size_t size, mode_t mode,
                               WriteFlags flags);
/* Without WRITE_DURABLE: pod state written on the start path, where each
 * fsync costs milliseconds and a power loss ends the pod anyway. */
int fd_write_file_atomic(int dirfd, const char *name, const void *data, size_t size, mode_t mode);

/* statx() of `name` below `dirfd` ("" for `dirfd` itself) without following
 * a symlink: type, inode, mount id. */
struct statx;
int fd_statx_nofollow(int dirfd, const char *name, struct statx *ret);

/* `child` (a directory found below `top`) is the root of another mount. */
bool fd_statx_is_other_mount(const struct statx *child, const struct statx *top);

/* Opens the directory `name` that fd_statx_nofollow() found as `sx` and
 * checks it is still that directory (nothing swapped in between). */
int fd_open_dir_checked(int dirfd, const char *name, const struct statx *sx);

/* Closes every fd but those in `keep` (at most 16; negative ones ignored),
 * with close_range(): before a process joins another's namespaces, nothing
 * of ours may go along. */
int fd_close_all_except(const int *keep, size_t n_keep);

/* The target of the symlink `name` below `dirfd` ("" with an O_PATH fd of
 * the link itself), of any length up to PATH_MAX. */
int fd_readlink(int dirfd, const char *name, char **ret);
