/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "macro.h"
#include "mount-util.h"
#include "mountinfo.h"

/* Rounds of "collect, make private, unmount": each round peels one layer
 * (a stacked mount, or mounts that were hidden under another). */
#define ROUNDS_MAX 64

typedef struct Candidate {
        char *target;  /* decoded mount point path */
        uint64_t id;   /* mount id, as mountinfo and statx(STATX_MNT_ID) give it */
        size_t depth;  /* '/' count: deeper mounts are unmounted first */
} Candidate;

static void candidates_free(Candidate *c, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(c[i].target);
        free(c);
}

/* The path of `name` below `parent_fd` as mountinfo spells it. */
static int dir_path(int parent_fd, const char *name, char **ret) {
        char proc[64], buf[4097];
        ssize_t n;

        if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", parent_fd);
        n = readlink(proc, buf, sizeof(buf));
        if (n < 0)
                return negative_errno();
        if ((size_t) n >= sizeof(buf) || buf[0] != '/')
                return -ENAMETOOLONG;
        buf[n] = 0;
        /* A deleted directory's link ends in " (deleted)": nothing to match. */
        if (n >= 10 && strcmp(buf + n - 10, " (deleted)") == 0)
                return -ENOENT;
        if (asprintf(ret, "%s/%s", strcmp(buf, "/") == 0 ? "" : buf, name) < 0)
                return -ENOMEM;
        return 0;
}

typedef struct Collected {
        const char *prefix;
        size_t len;
        Candidate *c;
        size_t n;
} Collected;

static int collect_one(struct libmnt_fs *fs, void *userdata) {
        Collected *l = userdata;
        const char *target = mnt_fs_get_target(fs);
        Candidate *grown;
        size_t depth = 0;

        if (!mountinfo_path_is_below(target, l->prefix, l->len))
                return 0;
        for (const char *p = target; *p; p++)
                depth += *p == '/';
        grown = reallocarray(l->c, l->n + 1, sizeof(Candidate));
        if (!grown)
                return -ENOMEM;
        l->c = grown;
        l->c[l->n] = (Candidate){ .target = strdup(target), .id = (uint64_t) mnt_fs_get_id(fs), .depth = depth };
        return l->c[l->n++].target ? 0 : -ENOMEM;
}

static int collect(const char *prefix, Candidate **ret, size_t *ret_n) {
        Collected l = { .prefix = prefix, .len = strlen(prefix) };
        int r = mountinfo_foreach(collect_one, &l);

        if (r < 0) {
                candidates_free(l.c, l.n);
                return r;
        }
        *ret = l.c;
        *ret_n = l.n;
        return 0;
}

/* Opens the mount point of `c` from `parent_fd` (never above it, no
 * symlinks) and checks that what it reaches is that very mount: the top of
 * the stack at that path, not hidden under another. -ESTALE if it is not. */
static int open_mount(int parent_fd, const char *parent_path, const Candidate *c) {
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        const char *rel = c->target + strlen(parent_path);
        struct statx sx;
        int fd;

        while (*rel == '/')
                rel++;
        do
                fd = (int) syscall(SYS_openat2, parent_fd, rel, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        if (fd < 0)
                return negative_errno();
        if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0 ||
            !(sx.stx_mask & STATX_MNT_ID) || sx.stx_mnt_id != c->id) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

static int cmp_shallow_first(const void *a, const void *b) {
        const Candidate *x = a, *y = b;

        return x->depth < y->depth ? -1 : x->depth > y->depth;
}

/* The parent of the pod directory: open_mount() resolves "<name>/…" from it. */
static int parent_path_of(const char *path, char **ret) {
        const char *slash = strrchr(path, '/');
        char *p = strndup(path, (size_t) (slash - path));

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int mount_umount_beneath(int parent_fd, const char *name) {
        _cleanup_free_ char *path = NULL, *parent = NULL;
        unsigned done = 0;
        int r;

        r = dir_path(parent_fd, name, &path);
        if (r < 0)
                return r;
        r = parent_path_of(path, &parent);
        if (r < 0)
                return r;
        for (int round = 0; round < ROUNDS_MAX; round++) {
                Candidate *c = NULL;
                size_t n = 0;
                bool progress = false;

                r = collect(path, &c, &n);
                if (r < 0)
                        return r;
                if (n == 0)
                        return (int) done;
                qsort(c, n, sizeof(Candidate), cmp_shallow_first);
                /* 1. Private, all of them, before anything is unmounted. */
                for (size_t i = 0; i < n; i++) {
                        _cleanup_close_ int fd = open_mount(parent_fd, parent, &c[i]);
                        char proc[64];

                        if (fd < 0)
                                continue; /* hidden: a later round reaches it */
                        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                        (void) mount(NULL, proc, NULL, MS_PRIVATE | MS_REC, NULL);
                }
                /* 2. Deepest first. Through the fd: /proc/self/fd/N is a magic
                 * link umount2() must follow, hence no UMOUNT_NOFOLLOW here;
                 * no other symlink can be involved (RESOLVE_NO_SYMLINKS). */
                for (size_t i = n; i-- > 0;) {
                        _cleanup_close_ int fd = open_mount(parent_fd, parent, &c[i]);
                        char proc[64];

                        if (fd < 0)
                                continue;
                        (void) snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
                        if (umount2(proc, 0) < 0) {
                                /* EINVAL, ENOENT: not a mount (any more); the
                                 * next round's mountinfo tells. */
                                if (errno != EBUSY)
                                        continue;
                                /* In use (an open file, a cwd): detach it from
                                 * the tree now, the kernel frees it later. */
                                if (umount2(proc, MNT_DETACH) < 0)
                                        continue;
                        }
                        done++;
                        progress = true;
                }
                candidates_free(c, n);
                if (!progress)
                        break;
        }
        r = mount_count_beneath(parent_fd, name);
        if (r < 0)
                return r;
        return r > 0 ? -EBUSY : (int) done;
}

int mount_count_beneath(int parent_fd, const char *name) {
        _cleanup_free_ char *path = NULL;
        Candidate *c = NULL;
        size_t n = 0;
        int r;

        r = dir_path(parent_fd, name, &path);
        if (r < 0)
                return r;
        r = collect(path, &c, &n);
        if (r < 0)
                return r;
        candidates_free(c, n);
        return (int) n;
}
