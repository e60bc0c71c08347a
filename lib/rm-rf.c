/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "fd-util.h"
#include "macro.h"
#include "rm-rf.h"
#include "strv.h"

typedef struct RmLevel {
        char *name; /* in the parent; NULL for the top */
        dev_t dev;
        ino_t ino;
        char **skip; /* entries that could not be removed: do not retry them */
} RmLevel;

/* Without CAP_DAC_OVERRIDE (render -o as a user) a directory made read-only
 * (as the tree being removed may have been) cannot be emptied: ours to
 * remove, so made writable first. Root needs none of it. */
static void make_writable(int fd) {
        struct stat st;

        if (geteuid() != 0 && fstat(fd, &st) == 0 && st.st_uid == geteuid() && (st.st_mode & 0700) != 0700)
                (void) fchmod(fd, (st.st_mode & 07777) | 0700);
}

static void rm_levels_free(RmLevel *levels, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(levels[i].name);
                strv_free(levels[i].skip);
        }
        free(levels);
}

/* Depth-first removal that holds one directory fd at a time: it descends into
 * a subdirectory by closing the current one, and climbs back through "..",
 * checking the parent's inode against the one it left, so a deep tree built
 * by a hostile app costs memory for names but never runs out of fds. */
static int remove_contents_fd(int topfd) {
        _cleanup_close_ int cur = -1;
        struct statx top;
        RmLevel *levels = NULL;
        size_t depth = 0, allocated = 0;
        int r = 0, k;

        cur = openat(topfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return negative_errno();
        k = fd_statx_nofollow(cur, "", &top);
        if (k < 0)
                return k;

        levels = calloc(16, sizeof(RmLevel));
        if (!levels)
                return -ENOMEM;
        allocated = 16;
        levels[0] = (RmLevel){ .dev = makedev(top.stx_dev_major, top.stx_dev_minor), .ino = top.stx_ino };
        depth = 1;

        for (;;) {
                _cleanup_(closedirp) DIR *d = NULL;
                RmLevel *lv = &levels[depth - 1];
                int dfd = fcntl(cur, F_DUPFD_CLOEXEC, 3);
                bool descended = false;
                struct dirent *de;

                if (dfd < 0) {
                        r = negative_errno();
                        break;
                }
                d = fdopendir(dfd);
                if (!d) {
                        r = negative_errno();
                        (void) close(dfd);
                        break;
                }
                /* The dup shares the file offset with `cur`: start from the top. */
                rewinddir(d);

                while ((errno = 0, de = readdir(d))) {
                        struct statx sx;
                        int child;

                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        if (strv_contains(lv->skip, de->d_name))
                                continue;

                        k = fd_statx_nofollow(cur, de->d_name, &sx);
                        if (k == -ENOENT)
                                continue;
                        if (k >= 0 && !S_ISDIR(sx.stx_mode)) {
                                if (unlinkat(cur, de->d_name, 0) >= 0 || errno == ENOENT)
                                        continue;
                                k = negative_errno();
                        } else if (k >= 0 && fd_statx_is_other_mount(&sx, &top))
                                k = -EBUSY; /* never descend into another file system */
                        else if (k >= 0) {
                                child = fd_open_dir_checked(cur, de->d_name, &sx);
                                if (child >= 0) {
                                        make_writable(child);
                                        char *name = strdup(de->d_name);

                                        if (name && depth == allocated) {
                                                RmLevel *p = reallocarray(levels, allocated * 2,
                                                                          sizeof(RmLevel));

                                                if (p) {
                                                        levels = p;
                                                        allocated *= 2;
                                                } else {
                                                        free(name);
                                                        name = NULL;
                                                }
                                        }
                                        if (!name) {
                                                (void) close(child);
                                                rm_levels_free(levels, depth);
                                                return -ENOMEM;
                                        }
                                        levels[depth++] = (RmLevel){
                                                .name = name,
                                                .dev = makedev(sx.stx_dev_major, sx.stx_dev_minor),
                                                .ino = sx.stx_ino,
                                        };
                                        (void) close(cur);
                                        cur = child;
                                        descended = true;
                                        break;
                                }
                                k = child;
                        }

                        /* Could not remove it: remember the first error, skip it next time. */
                        if (r == 0)
                                r = k;
                        if (strv_extend(&lv->skip, de->d_name) < 0) {
                                rm_levels_free(levels, depth);
                                return -ENOMEM;
                        }
                }
                if (!descended && errno != 0 && r == 0)
                        r = negative_errno();
                if (descended)
                        continue;
                if (depth == 1)
                        break;

                /* Done with this directory: climb up and remove it. */
                {
                        _cleanup_close_ int parent = -1;
                        RmLevel *up = &levels[depth - 2];
                        struct stat st;

                        parent = openat(cur, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (parent < 0 || fstat(parent, &st) < 0) {
                                r = negative_errno();
                                break;
                        }
                        if (st.st_dev != up->dev || st.st_ino != up->ino) {
                                /* Moved away under us: stop rather than remove the wrong things. */
                                r = -ESTALE;
                                break;
                        }
                        if (unlinkat(parent, lv->name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
                                if (r == 0)
                                        r = negative_errno();
                                if (strv_extend(&up->skip, lv->name) < 0) {
                                        rm_levels_free(levels, depth);
                                        return -ENOMEM;
                                }
                        }
                        free(lv->name);
                        strv_free(lv->skip);
                        depth--;
                        (void) close(cur);
                        cur = TAKE_FD(parent);
                }
        }

        rm_levels_free(levels, depth);
        return r;
}

int rm_rf_children(int dirfd) {
        if (dirfd < 0)
                return -EBADF;
        return remove_contents_fd(dirfd);
}

int rm_rf_at(int dirfd, const char *name) {
        _cleanup_close_ int fd = -1;
        struct statx sx, parent;
        int r;

        if (dirfd < 0)
                return -EBADF;
        if (!name || !*name || strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;

        r = fd_statx_nofollow(dirfd, name, &sx);
        if (r < 0)
                return r;
        if (!S_ISDIR(sx.stx_mode))
                return unlinkat(dirfd, name, 0) < 0 ? negative_errno() : 0;

        r = fd_statx_nofollow(dirfd, "", &parent);
        if (r < 0)
                return r;
        if (fd_statx_is_other_mount(&sx, &parent))
                return -EBUSY;
        fd = fd_open_dir_checked(dirfd, name, &sx);
        if (fd < 0)
                return fd;
        make_writable(fd);
        r = remove_contents_fd(fd);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = negative_errno();
        return r;
}
