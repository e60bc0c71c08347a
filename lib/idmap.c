/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd-util.h"
#include "idmap.h"
#include "macro.h"
#include "parse-util.h"

#define IDMAP_LOCK_DIR "/run/nspawn-pod/userns"

int idmap_parse(const char *s, uint32_t *ret_shift, uint32_t *ret_range) {
        _cleanup_free_ char *copy = strdup(s);
        uint64_t shift, range = IDMAP_RANGE;
        char *colon;

        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (colon)
                *colon++ = 0;
        if (parse_uint64(copy, &shift) < 0 || (colon && parse_uint64(colon, &range) < 0))
                return -EINVAL;
        /* Whole blocks of 65536 ids (nspawn's and rkt's), the pod's root
         * never the host's, no more ids in the pod than below the shift (so
         * a shifted id is never one of the pod's own: idmap_shift_tree()),
         * the pod's ids clear of the mapping's host-root line
         * (IDMAP_HOST_ROOT_ON_DISK), and the host's ids below its "nobody"
         * range and (uid_t)-1. All in 64 bits: nothing wraps. */
        if (shift == 0 || range == 0 || shift % IDMAP_RANGE != 0 || range % IDMAP_RANGE != 0 || range > shift ||
            range >= IDMAP_HOST_ROOT_ON_DISK || shift > UINT32_MAX || shift + range > UINT64_C(0xFFFE0000))
                return -EINVAL;
        *ret_shift = (uint32_t) shift;
        *ret_range = (uint32_t) range;
        return 0;
}

int idmap_userns(uint32_t shift, uint32_t range, int *ret_fd) {
        _cleanup_close_ int ns = -1;
        int p[2], r = 0, status;
        char path[64], map[96];
        pid_t child;
        char c;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        child = fork();
        if (child < 0) {
                r = negative_errno();
                close(p[0]);
                close(p[1]);
                return r;
        }
        if (child == 0) {
                /* Into a user namespace, tell the parent, wait to be killed. */
                close(p[0]);
                if (unshare(CLONE_NEWUSER) < 0)
                        _exit(1);
                (void) !write(p[1], "x", 1);
                for (;;)
                        pause();
        }
        close(p[1]);
        if (read(p[0], &c, 1) != 1)
                r = -EPERM;
        close(p[0]);
        snprintf(map, sizeof(map), "0 %" PRIu32 " %" PRIu32 "\n%" PRIu32 " 0 1\n", shift, range,
                 IDMAP_HOST_ROOT_ON_DISK);
        static const char *const files[] = { "uid_map", "gid_map" };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++) {
                _cleanup_close_ int fd = -1;

                snprintf(path, sizeof(path), "/proc/%d/%s", (int) child, files[i]);
                fd = open(path, O_WRONLY | O_CLOEXEC);
                if (fd < 0 || write(fd, map, strlen(map)) != (ssize_t) strlen(map))
                        r = negative_errno();
        }
        if (r >= 0) {
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) child);
                ns = open(path, O_RDONLY | O_CLOEXEC);
                if (ns < 0)
                        r = negative_errno();
        }
        (void) kill(child, SIGKILL);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return r;
        *ret_fd = TAKE_FD(ns);
        return 0;
}

int idmap_tree(int tree, int userns_fd, bool recursive) {
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_IDMAP,
                .userns_fd = (uint64_t) userns_fd,
        };

        /* Only a detached tree can get an idmapping; every mount of it gets
         * the one map, or none does. */
        if (mount_setattr(tree, "", AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &attr, sizeof(attr)) < 0)
                return negative_errno();
        return 0;
}

int idmap_remount(int dirfd, const char *path, int userns_fd, bool recursive) {
        _cleanup_close_ int tree = -1;
        int r;

        tree = open_tree(dirfd, path,
                         OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (recursive ? AT_RECURSIVE : 0) |
                                 (*path ? 0 : AT_EMPTY_PATH));
        if (tree < 0)
                return negative_errno();
        r = idmap_tree(tree, userns_fd, recursive);
        if (r < 0)
                return r;
        if (move_mount(tree, "", dirfd, path, MOVE_MOUNT_F_EMPTY_PATH | (*path ? 0 : MOVE_MOUNT_T_EMPTY_PATH)) < 0)
                return negative_errno();
        return 0;
}

/* The effective set back to the permitted one (all of root's). */
static int raise_effective(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2];

        if (syscall(SYS_capget, &h, d) < 0)
                return negative_errno();
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (syscall(SYS_capset, &h, d) < 0)
                return negative_errno();
        return 0;
}

int idmap_become(uint32_t shift) {
        int r;

        (void) setfsgid((gid_t) shift);
        (void) setfsuid((uid_t) shift);
        /* setfs*id() report the old value: ask again to see the new one. */
        if ((uint32_t) setfsuid((uid_t) -1) != shift || (uint32_t) setfsgid((gid_t) -1) != shift) {
                idmap_unbecome();
                return -EPERM;
        }
        r = raise_effective();
        if (r < 0)
                idmap_unbecome();
        return r;
}

void idmap_unbecome(void) {
        (void) setfsuid(0);
        (void) setfsgid(0);
        (void) raise_effective();
}

/* A DIR stream on a duplicate of `fd`, read from its start. */
static int opendir_dup(int fd, DIR **ret) {
        int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3), r;
        DIR *d;

        if (dup_fd < 0)
                return negative_errno();
        d = fdopendir(dup_fd);
        if (!d) {
                r = negative_errno();
                close(dup_fd);
                return r;
        }
        rewinddir(d); /* the duplicate shares the file offset */
        *ret = d;
        return 0;
}

/* The lock directory, opened and locked (flock) for the caller's scan or
 * change of its entries. */
static int lock_dir(int *ret) {
        _cleanup_close_ int dir = -1;

        (void) mkdir("/run/nspawn-pod", 0755);
        if (mkdir(IDMAP_LOCK_DIR, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        dir = open(IDMAP_LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir < 0)
                return negative_errno();
        while (flock(dir, LOCK_EX) < 0)
                if (errno != EINTR)
                        return negative_errno();
        *ret = TAKE_FD(dir);
        return 0;
}

/* Entries are "SHIFT-RANGE", each locked (flock) by the pod that has that
 * range for as long as it runs. Under the directory's lock: one whose lock
 * nobody holds is a leftover (a run killed before it removed it) and goes;
 * one held that overlaps [shift, shift+range) makes the range busy. */
int idmap_lock(uint32_t shift, uint32_t range, int *ret_fd) {
        _cleanup_close_ int dir = -1, fd = -1;
        _cleanup_(closedirp) DIR *d = NULL;
        char name[32];
        struct dirent *de;
        int r;

        r = lock_dir(&dir);
        if (r < 0)
                return r;
        r = opendir_dup(dir, &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_close_ int other = -1;
                char num[32], *dash;
                uint64_t s, n;

                if (strlen(de->d_name) >= sizeof(num))
                        continue; /* not ours */
                strcpy(num, de->d_name);
                dash = strchr(num, '-');
                if (!dash)
                        continue;
                *dash++ = 0;
                if (parse_uint64(num, &s) < 0 || parse_uint64(dash, &n) < 0)
                        continue;
                if (s + n <= shift || (uint64_t) shift + range <= s)
                        continue; /* no overlap */
                other = openat(dir, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (other < 0)
                        continue;
                if (flock(other, LOCK_EX | LOCK_NB) < 0)
                        return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
                (void) unlinkat(dir, de->d_name, 0);
        }
        if (errno > 0)
                return negative_errno();
        snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32, shift, range);
        fd = openat(dir, name, O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

void idmap_unlock(uint32_t shift, uint32_t range, int lock_fd) {
        _cleanup_close_ int dir = -1;
        char name[32];

        if (lock_fd < 0)
                return;
        snprintf(name, sizeof(name), "%" PRIu32 "-%" PRIu32, shift, range);
        /* Removed while still locked, under the directory's lock: no one
         * can be taking it meanwhile. */
        if (lock_dir(&dir) >= 0)
                (void) unlinkat(dir, name, 0);
        close(lock_fd);
}

int idmap_pick(uint32_t *ret_shift, int *ret_lock_fd) {
        const uint32_t n = (IDMAP_SHIFT_MAX - IDMAP_SHIFT_MIN) / IDMAP_RANGE + 1;
        uint32_t start = 0;

        if (getrandom(&start, sizeof(start), GRND_NONBLOCK) != sizeof(start))
                start = (uint32_t) getpid();
        for (uint32_t i = 0; i < n; i++) {
                uint32_t shift = IDMAP_SHIFT_MIN + ((start + i) % n) * IDMAP_RANGE;
                int r = idmap_lock(shift, IDMAP_RANGE, ret_lock_fd);

                if (r == -EBUSY)
                        continue;
                if (r < 0)
                        return r;
                *ret_shift = shift;
                return 0;
        }
        return -EBUSY;
}

static int shift_ids(int dirfd, const char *name, const struct statx *sx, uint32_t shift, uint32_t range) {
        uid_t uid = sx->stx_uid < range ? sx->stx_uid + shift : sx->stx_uid;
        gid_t gid = sx->stx_gid < range ? sx->stx_gid + shift : sx->stx_gid;

        if (uid == sx->stx_uid && gid == sx->stx_gid)
                return 0;
        if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0)
                return negative_errno();
        /* chown clears the set-id bits of files: put them back. */
        if (S_ISREG(sx->stx_mode) && (sx->stx_mode & 06000) &&
            fchmodat(dirfd, name, sx->stx_mode & 07777, 0) < 0)
                return negative_errno();
        return 0;
}

static int shift_below(int dirfd, const struct statx *top, const char *rel, uint32_t shift, uint32_t range,
                       char *const *skip, unsigned depth) {
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        if (depth > 256)
                return -ELOOP;
        r = opendir_dup(dirfd, &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                bool skipped = false;
                struct statx sx;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", de->d_name) < 0)
                        return -ENOMEM;
                STRV_FOREACH(p, skip)
                        skipped = skipped || fnmatch(*p, path, FNM_PATHNAME) == 0;
                if (skipped)
                        continue;
                if (statx(dirfd, de->d_name, AT_SYMLINK_NOFOLLOW, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_MNT_ID,
                          &sx) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return negative_errno();
                }
                if (fd_statx_is_other_mount(&sx, top))
                        continue; /* a mount (a directory's or a file's): not ours to chown */
                r = shift_ids(dirfd, de->d_name, &sx, shift, range);
                if (r < 0)
                        return r;
                if (S_ISDIR(sx.stx_mode)) {
                        _cleanup_close_ int sub = fd_open_dir_nofollow(dirfd, de->d_name, O_RDONLY);

                        if (sub < 0)
                                return sub;
                        r = shift_below(sub, top, path, shift, range, skip, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return errno > 0 ? -errno : 0;
}

int idmap_shift_tree(int dirfd, uint32_t shift, uint32_t range, char *const *skip) {
        _cleanup_close_ int top = -1;
        struct statx sx;
        int r;

        top = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (top < 0)
                return negative_errno();
        if (statx(top, "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_UID | STATX_GID | STATX_MNT_ID, &sx) < 0)
                return negative_errno();
        r = shift_ids(top, "", &sx, shift, range);
        if (r < 0)
                return r;
        return shift_below(top, &sx, "", shift, range, skip, 0);
}
