/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bind-mount.h"
#include "fd-util.h"
#include "macro.h"
#include "pod-bind.h"
#include "strbuf.h"

#define BINDS_FILE "binds"
#define BINDS_LOCK "binds.lock"
#define BINDS_MAX (1024 * 1024)

void pod_binds_free(PodBind *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(b[i].app);
                free(b[i].dest);
                free(b[i].source);
        }
        free(b);
}

/* Records are lines "app\tdest\tsource\tro|rw": paths with a tab or a
 * newline are refused by pod_bind(). */
static int parse_binds(char *data, PodBind **ret, size_t *ret_n) {
        PodBind *b = NULL;
        size_t n = 0;

        for (char *line = data, *next; line && *line; line = next) {
                char *f[4];
                PodBind *nb;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                f[0] = line;
                for (int i = 1; i < 4; i++) {
                        f[i] = f[i - 1] ? strchr(f[i - 1], '\t') : NULL;
                        if (f[i])
                                *f[i]++ = 0;
                }
                if (!f[3])
                        continue; /* not ours */
                nb = reallocarray(b, n + 1, sizeof(PodBind));
                if (!nb) {
                        pod_binds_free(b, n);
                        return -ENOMEM;
                }
                b = nb;
                b[n] = (PodBind) { .app = strdup(f[0]), .dest = strdup(f[1]), .source = strdup(f[2]),
                                   .read_only = strcmp(f[3], "ro") == 0 };
                n++;
                if (!b[n - 1].app || !b[n - 1].dest || !b[n - 1].source) {
                        pod_binds_free(b, n);
                        return -ENOMEM;
                }
        }
        *ret = b;
        *ret_n = n;
        return 0;
}

int pod_binds_read(int pod_fd, PodBind **ret, size_t *ret_n) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r;

        r = fd_read_file_in_root(pod_fd, BINDS_FILE, BINDS_MAX, &data, &size);
        if (r == -ENOENT) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (r < 0)
                return r;
        return parse_binds(data, ret, ret_n);
}

/* Rewrites the records with `add` added (replacing one of the same app and
 * destination) or, when `add` is NULL, without app/dest. The caller holds
 * the records' lock. */
static int binds_update(int pod_fd, const PodBind *add, const char *app, const char *dest) {
        _cleanup_strbuf_ StrBuf out = STRBUF_INIT;
        PodBind *b = NULL;
        size_t n = 0;
        int r;

        r = pod_binds_read(pod_fd, &b, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(b[i].app, app) == 0 && strcmp(b[i].dest, dest) == 0)
                        continue;
                strbuf_printf(&out, "%s\t%s\t%s\t%s\n", b[i].app, b[i].dest, b[i].source, b[i].read_only ? "ro" : "rw");
        }
        pod_binds_free(b, n);
        if (add)
                strbuf_printf(&out, "%s\t%s\t%s\t%s\n", add->app, add->dest, add->source, add->read_only ? "ro" : "rw");
        if (strbuf_error(&out) < 0)
                return -ENOMEM;
        return fd_write_file_atomic(pod_fd, BINDS_FILE, out.data ? out.data : "", out.len, 0600);
}

static int lock_binds(int pod_fd) {
        int fd = openat(pod_fd, BINDS_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

        if (fd < 0)
                return negative_errno();
        if (flock(fd, LOCK_EX) < 0) {
                safe_close(fd);
                return negative_errno();
        }
        return fd;
}

/* The app's root as its main process sees it, opened through /proc and
 * checked to belong to that process still (the pidfd is alive after the
 * open: the pid was not reused in between). */
static int open_app_root(int pidfd, pid_t pid) {
        char path[64];
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/root", (int) pid);
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0) {
                safe_close(fd);
                return -ESRCH;
        }
        return fd;
}

/* In a child: join the app's mount namespace, attach `tree` at `dest` from
 * `rootfd` (tree < 0: detach what is at dest). The resolved destination, or
 * -errno, comes back through a pipe. */
static int in_app_namespace(int pidfd, int rootfd, int tree, const char *dest, BindMountFlags flags,
                            char **ret_dest) {
        _cleanup_close_ int rd = -1, wr = -1;
        int p[2], status;
        pid_t child;

        if (pipe2(p, O_CLOEXEC) < 0)
                return negative_errno();
        rd = p[0];
        wr = p[1];
        child = fork();
        if (child < 0)
                return negative_errno();
        if (child == 0) {
                _cleanup_free_ char *resolved = NULL;
                /* Ours, before the join: the pod's /proc has no entry for us. */
                int proc_fds = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

                rd = safe_close(rd);
                if (proc_fds < 0)
                        r = negative_errno();
                else if (setns(pidfd, CLONE_NEWNS) < 0)
                        r = negative_errno();
                else if (tree >= 0)
                        r = bind_mount_attach(tree, rootfd, dest, flags, &resolved);
                else
                        r = bind_mount_detach(rootfd, dest, proc_fds, &resolved);
                if (r < 0) {
                        (void) fd_write_all(wr, &r, sizeof(r));
                        _exit(1);
                }
                r = 0;
                if (fd_write_all(wr, &r, sizeof(r)) < 0 || fd_write_all(wr, resolved, strlen(resolved)) < 0)
                        _exit(1);
                _exit(0);
        }
        wr = safe_close(wr);
        {
                _cleanup_free_ char *buf = NULL;
                size_t size;
                int r, res;

                r = fd_read_all(rd, 65536, &buf, &size);
                while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                        ;
                if (r < 0)
                        return r;
                if (size < sizeof(int))
                        return -EIO;
                memcpy(&res, buf, sizeof(int));
                if (res < 0)
                        return res;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return -EIO;
                *ret_dest = strndup(buf + sizeof(int), size - sizeof(int));
                return *ret_dest ? 0 : -ENOMEM;
        }
}

int pod_bind(int pod_fd, int pidfd, pid_t pid, const char *app, const char *source, const char *dest,
             PodBindFlags flags, char **ret_dest, NpError *err) {
        _cleanup_close_ int tree = -1, root = -1, lock = -1;
        _cleanup_free_ char *resolved = NULL;
        BindMountFlags bf = 0;
        int r;

        if (strpbrk(source, "\t\n") || strpbrk(dest, "\t\n"))
                return error_set(err, -EINVAL, NULL, "paths with a tab or a newline are refused");
        if (flags & POD_BIND_READ_ONLY)
                bf |= BIND_MOUNT_READ_ONLY;
        if (flags & POD_BIND_MKDIR)
                bf |= BIND_MOUNT_MKDIR;
        /* machinectl bind's: the source alone, not what is mounted below it. */
        r = bind_mount_clone(AT_FDCWD, source, bf, &tree);
        if (r < 0)
                return error_set(err, r, source, "cannot open the source: %s", strerror(-r));
        root = open_app_root(pidfd, pid);
        if (root < 0)
                return error_set(err, root, app, "cannot open the app's root: %s", strerror(-root));
        lock = lock_binds(pod_fd);
        if (lock < 0)
                return error_set(err, lock, BINDS_LOCK, "cannot lock: %s", strerror(-lock));
        r = in_app_namespace(pidfd, root, tree, dest, bf, &resolved);
        if (r < 0)
                return error_set(err, r, NULL, "cannot mount %s at %s in app \"%s\": %s", source, dest, app,
                                 r == -ENOENT    ? "it does not exist (--mkdir creates it)"
                                 : r == -EBUSY   ? "that is the app's root"
                                 : r == -ENOTDIR ? "the source is a directory, the destination is not"
                                 : r == -EISDIR  ? "the source is not a directory, the destination is one"
                                                 : strerror(-r));
        PodBind rec = { .app = (char *) app, .dest = resolved, .source = (char *) source,
                        .read_only = flags & POD_BIND_READ_ONLY };
        r = binds_update(pod_fd, &rec, app, resolved);
        if (r < 0)
                return error_set(err, r, BINDS_FILE, "mounted, but cannot record it: %s", strerror(-r));
        *ret_dest = TAKE_PTR(resolved);
        return 0;
}

int pod_unbind(int pod_fd, int pidfd, pid_t pid, const char *app, const char *dest, char **ret_dest, NpError *err) {
        _cleanup_close_ int root = -1, lock = -1;
        _cleanup_free_ char *resolved = NULL;
        int r;

        root = open_app_root(pidfd, pid);
        if (root < 0)
                return error_set(err, root, app, "cannot open the app's root: %s", strerror(-root));
        lock = lock_binds(pod_fd);
        if (lock < 0)
                return error_set(err, lock, BINDS_LOCK, "cannot lock: %s", strerror(-lock));
        r = in_app_namespace(pidfd, root, -1, dest, 0, &resolved);
        if (r < 0)
                return error_set(err, r, NULL, "cannot unmount %s in app \"%s\": %s", dest, app,
                                 r == -EINVAL ? "nothing is mounted there" : strerror(-r));
        r = binds_update(pod_fd, NULL, app, resolved);
        if (r < 0)
                return error_set(err, r, BINDS_FILE, "unmounted, but cannot update the record: %s", strerror(-r));
        *ret_dest = TAKE_PTR(resolved);
        return 0;
}
