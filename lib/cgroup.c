/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "cgroup.h"
#include "fd-util.h"
#include "macro.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_table *, mnt_unref_table);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct libmnt_iter *, mnt_free_iter);

/* Our own path in the unified hierarchy ("0::") or in name=systemd. */
static int own_cgroup(bool unified, char **ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        if (!f)
                return negative_errno();
        while (getline(&line, &n, f) > 0) {
                char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;

                if (!b)
                        continue;
                *a = *b = 0;
                b[1 + strcspn(b + 1, "\n")] = 0;
                if ((unified && strcmp(line, "0") == 0 && a[1] == 0) ||
                    (!unified && strcmp(a + 1, "name=systemd") == 0)) {
                        char *p = strdup(b + 1);

                        if (!p)
                                return -ENOMEM;
                        *ret = p;
                        return 0;
                }
        }
        return -ENOENT;
}

static int enter_one(const char *mount_point, bool unified, const char *name, char **ret_rel) {
        _cleanup_free_ char *own = NULL, *rel = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1, procs = -1;
        char pid[32];
        int r, len;

        r = own_cgroup(unified, &own);
        if (r < 0)
                return r;
        if (asprintf(&rel, "%s%s%s", strcmp(own, "/") == 0 ? "" : own, "/", name) < 0)
                return -ENOMEM;
        if (asprintf(&dir, "%s%s", mount_point, rel) < 0)
                return -ENOMEM;
        /* A pod's cgroup is new: an existing one means a stale pod of the
         * same name, and sharing it is exactly what this avoids. */
        if (mkdir(dir, 0755) < 0)
                return negative_errno();
        fd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        procs = openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (procs < 0)
                return negative_errno();
        len = snprintf(pid, sizeof(pid), "%d\n", (int) getpid());
        r = fd_write_all(procs, pid, (size_t) len);
        if (r < 0) {
                (void) rmdir(dir);
                return r;
        }
        if (ret_rel)
                *ret_rel = TAKE_PTR(rel);
        return 0;
}

/* The v1 hierarchy systemd uses for its own bookkeeping: "name=systemd". */
static bool is_name_systemd(struct libmnt_fs *fs) {
        char *value = NULL;
        size_t size = 0;

        return mnt_fs_get_option(fs, "name", &value, &size) == 0 && value && size == 7 &&
               strncmp(value, "systemd", 7) == 0;
}

int cgroup_enter_pod(const char *name, char **ret_subcgroup) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = mnt_new_table();
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        _cleanup_free_ char *unified_rel = NULL, *systemd_rel = NULL;
        struct libmnt_fs *fs;
        int r;

        if (!t || !it)
                return -ENOMEM;
        r = mnt_table_parse_file(t, "/proc/self/mountinfo");
        if (r < 0)
                return r;
        while (mnt_table_next_fs(t, it, &fs) == 0) {
                const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);

                if (!type || !target)
                        continue;
                if (strcmp(type, "cgroup2") == 0 && !unified_rel) {
                        r = enter_one(target, true, name, &unified_rel);
                        if (r < 0)
                                return r;
                } else if (strcmp(type, "cgroup") == 0 && !systemd_rel && is_name_systemd(fs)) {
                        r = enter_one(target, false, name, &systemd_rel);
                        if (r < 0)
                                return r;
                }
        }
        if (!unified_rel && !systemd_rel)
                return -ENOMEDIUM; /* no cgroup file system to place the pod in */
        if (ret_subcgroup)
                *ret_subcgroup = systemd_rel ? TAKE_PTR(systemd_rel) : TAKE_PTR(unified_rel);
        return 0;
}

/* Kills whatever is still in `dir` and below (cgroup.kill where the kernel has
 * it, else SIGKILL to every listed pid). */
static void kill_tree(int dirfd) {
        _cleanup_close_ int kill_fd = openat(dirfd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
        _cleanup_fclose_ FILE *procs = NULL;
        int fd;
        DIR *d;
        struct dirent *de;
        long pid;

        if (kill_fd >= 0 && write(kill_fd, "1", 1) == 1)
                return;
        fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && (procs = fdopen(fd, "re")))
                while (fscanf(procs, "%ld", &pid) == 1)
                        if (pid > 0)
                                (void) kill((pid_t) pid, SIGKILL);
        if (fd >= 0 && !procs)
                close(fd);
        fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || !(d = fdopendir(fd))) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        _cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub >= 0)
                                kill_tree(sub);
                }
        closedir(d);
}

/* rmdir of a cgroup tree, children first; only directories exist in it. */
static int remove_tree(int parentfd, const char *name) {
        _cleanup_close_ int fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        int r = 0;

        if (fd < 0)
                return negative_errno();
        d = fdopendir(fcntl(fd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                return negative_errno();
        while ((de = readdir(d)))
                if (de->d_type == DT_DIR && de->d_name[0] != '.') {
                        int k = remove_tree(fd, de->d_name);

                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = negative_errno();
        return r;
}

static int remove_one(const char *mount_point, bool unified, const char *name, unsigned timeout_ms) {
        _cleanup_free_ char *own = NULL, *parent = NULL;
        _cleanup_close_ int pfd = -1;
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        int r;

        r = own_cgroup(unified, &own);
        if (r < 0)
                return r;
        if (asprintf(&parent, "%s%s", mount_point, own) < 0)
                return -ENOMEM;
        pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (pfd < 0)
                return negative_errno();
        for (unsigned waited = 0;; waited += 20) {
                r = remove_tree(pfd, name);
                if (r >= 0 || r == -ENOENT || r != -EBUSY || waited >= timeout_ms)
                        return r;
                /* Busy: a process is left, or a killed one is not reaped yet. */
                {
                        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (fd >= 0)
                                kill_tree(fd);
                }
                (void) nanosleep(&pause, NULL);
        }
}

int cgroup_remove_pod(const char *name, unsigned timeout_ms) {
        _cleanup_(mnt_unref_tablep) struct libmnt_table *t = mnt_new_table();
        _cleanup_(mnt_free_iterp) struct libmnt_iter *it = mnt_new_iter(MNT_ITER_FORWARD);
        struct libmnt_fs *fs;
        bool any = false;
        int r, ret = 0;

        if (!t || !it)
                return -ENOMEM;
        r = mnt_table_parse_file(t, "/proc/self/mountinfo");
        if (r < 0)
                return r;
        while (mnt_table_next_fs(t, it, &fs) == 0) {
                const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
                bool unified;

                if (!type || !target)
                        continue;
                if (strcmp(type, "cgroup2") == 0)
                        unified = true;
                else if (strcmp(type, "cgroup") == 0 && is_name_systemd(fs))
                        unified = false;
                else
                        continue;
                r = remove_one(target, unified, name, timeout_ms);
                if (r >= 0)
                        any = true;
                else if (r != -ENOENT && ret == 0)
                        ret = r;
        }
        return ret < 0 ? ret : any ? 0 : -ENOENT;
}
