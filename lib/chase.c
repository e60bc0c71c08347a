/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "fd-util.h"
#include "macro.h"
#include "strbuf.h"

/* The directories walked down so far: fds[0] is the root (borrowed), each
 * further one ours, with the component it was opened by. */
typedef struct Walk {
        int *fds;
        char **names;
        size_t depth; /* entries above the root */
        size_t allocated;
} Walk;

static void walk_pop(Walk *w) {
        if (w->depth == 0)
                return;
        safe_close(w->fds[w->depth]);
        free(w->names[w->depth]);
        w->depth--;
}

static void walk_done(Walk *w) {
        while (w->depth > 0)
                walk_pop(w);
        free(w->fds);
        free(w->names);
}

static int walk_push(Walk *w, int fd, const char *name) {
        if (w->depth + 2 > w->allocated) {
                size_t n = w->allocated * 2;
                int *fds = reallocarray(w->fds, n, sizeof(int));

                if (!fds)
                        return -ENOMEM;
                w->fds = fds;
                char **names = reallocarray(w->names, n, sizeof(char *));
                if (!names)
                        return -ENOMEM;
                w->names = names;
                w->allocated = n;
        }
        w->names[w->depth + 1] = strdup(name);
        if (!w->names[w->depth + 1])
                return -ENOMEM;
        w->fds[++w->depth] = fd;
        return 0;
}

/* Takes the next component off `*p` into `buf` (NUL-terminated; "" when
 * none is left). Components longer than NAME_MAX cannot exist. */
static int next_component(const char **p, char buf[static NAME_MAX + 1]) {
        const char *s = *p, *e;

        while (*s == '/')
                s++;
        e = strchrnul(s, '/');
        if ((size_t) (e - s) > NAME_MAX)
                return -ENAMETOOLONG;
        memcpy(buf, s, e - s);
        buf[e - s] = 0;
        *p = e;
        return 0;
}

static bool only_slashes(const char *p) {
        return p[strspn(p, "/")] == 0;
}

/* Creates `name` below `dirfd` as asked; an existing one is fine (another
 * walker, or the tree's owner, may have made it: it is then opened and
 * checked like anything found). */
static int create_component(int dirfd, const char *name, bool last, ChaseFlags flags) {
        _cleanup_close_ int fd = -1;

        /* The modes are set with fchmod(), whatever the caller's umask: a
         * 0700 mount point would keep the app's users out. */
        if (!last || (flags & CHASE_CREATE_DIR)) {
                if (mkdirat(dirfd, name, 0700) < 0)
                        return errno == EEXIST ? 0 : negative_errno();
                fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 || fchmod(fd, 0755) < 0)
                        return negative_errno();
                return 0;
        }
        if (flags & CHASE_CREATE_FILE) {
                fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return errno == EEXIST ? 0 : negative_errno();
                if (fchmod(fd, 0644) < 0)
                        return negative_errno();
                return 0;
        }
        return -ENOENT;
}

int chase_in_root(int rootfd, const char *path, ChaseFlags flags, int *ret_fd, char **ret_path) {
        _cleanup_(walk_done) Walk w = {};
        _cleanup_free_ char *todo = strdup(path);
        const char *p;
        unsigned links = 0;
        char name[NAME_MAX + 1];
        int r;

        if (!todo)
                return -ENOMEM;
        w.allocated = 16;
        w.fds = calloc(w.allocated, sizeof(int));
        w.names = calloc(w.allocated, sizeof(char *));
        if (!w.fds || !w.names)
                return -ENOMEM;
        w.fds[0] = rootfd;

        p = todo;
        for (;;) {
                _cleanup_close_ int fd = -1;
                struct stat st;
                bool last;

                r = next_component(&p, name);
                if (r < 0)
                        return r;
                if (!*name)
                        break;
                last = only_slashes(p);
                if (strcmp(name, ".") == 0)
                        continue;
                if (strcmp(name, "..") == 0) {
                        walk_pop(&w); /* at the root, ".." is the root */
                        continue;
                }

                fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT && (flags & CHASE_MKDIR)) {
                        r = create_component(w.fds[w.depth], name, last, flags);
                        if (r < 0)
                                return r;
                        fd = openat(w.fds[w.depth], name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                }
                if (fd < 0)
                        return negative_errno();
                if (fstat(fd, &st) < 0)
                        return negative_errno();

                if (S_ISLNK(st.st_mode)) {
                        _cleanup_free_ char *target = NULL;
                        char *rest;

                        if (++links > CHASE_SYMLINKS_MAX)
                                return -ELOOP;
                        r = fd_readlink(fd, "", &target);
                        if (r < 0)
                                return r;
                        if (asprintf(&rest, "%s/%s", target, p) < 0)
                                return -ENOMEM;
                        free(todo);
                        todo = rest;
                        p = todo;
                        if (target[0] == '/')
                                while (w.depth > 0)
                                        walk_pop(&w);
                        continue;
                }
                if (!last && !S_ISDIR(st.st_mode))
                        return -ENOTDIR;
                r = walk_push(&w, fd, name);
                if (r < 0)
                        return r;
                TAKE_FD(fd);
        }

        _cleanup_free_ char *resolved = NULL;
        if (ret_path) {
                _cleanup_strbuf_ StrBuf b = STRBUF_INIT;

                for (size_t i = 1; i <= w.depth; i++) {
                        strbuf_putc(&b, '/');
                        strbuf_append(&b, w.names[i]);
                }
                if (w.depth == 0)
                        strbuf_putc(&b, '/');
                if (strbuf_error(&b) < 0)
                        return -ENOMEM;
                resolved = strbuf_steal(&b, NULL);
        }
        if (w.depth == 0) {
                /* The root itself: a new fd of it. */
                int fd = openat(rootfd, ".", O_PATH | O_CLOEXEC);

                if (fd < 0)
                        return negative_errno();
                *ret_fd = fd;
        } else {
                *ret_fd = w.fds[w.depth];
                w.fds[w.depth] = -1;
        }
        if (ret_path)
                *ret_path = TAKE_PTR(resolved);
        return 0;
}
