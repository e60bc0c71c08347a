/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <libmount.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
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
#include "mountinfo.h"
#include "strv.h"
#include "proc-state.h"


/* Our own path in the unified hierarchy ("0::", `controller` NULL), or in the
 * v1 one whose controller list holds `controller` ("name=systemd", "memory"). */
int cgroup_own_path(const char *controller, char **ret) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
        _cleanup_free_ char *line = NULL;
        size_t n = 0;

        if (!f)
                return negative_errno();
        while (getline(&line, &n, f) > 0) {
                char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
                bool match = false;

                if (!b)
                        continue;
                *a = *b = 0;
                b[1 + strcspn(b + 1, "\n")] = 0;
                if (!controller)
                        match = strcmp(line, "0") == 0 && a[1] == 0;
                else
                        for (char *p = a + 1; *p && !match;) {
                                size_t len = strcspn(p, ",");

                                match = len == strlen(controller) && strncmp(p, controller, len) == 0;
                                p += len + (p[len] == ',');
                        }
                if (match) {
                        char *p = strdup(b + 1);

                        if (!p)
                                return -ENOMEM;
                        *ret = p;
                        return 0;
                }
        }
        return -ENOENT;
}

static int enter_one(const char *mount_point, const char *controller, const char *name, char **ret_rel) {
        _cleanup_free_ char *own = NULL, *rel = NULL, *dir = NULL;
        _cleanup_close_ int fd = -1, procs = -1;
        char pid[32];
        int r, len;

        r = cgroup_own_path(controller, &own);
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

typedef struct Hierarchy {
        char *mount_point;
        bool unified;
        const char *controller; /* NULL (cgroup2), "name=systemd", or a v1 controller of lib/cgroup-limits.h */
        bool placement;         /* where processes are placed (cgroup2, name=systemd); the v1 controller
                                 * ones hold a pod's cgroups only when it has limits there */
} Hierarchy;

static int hierarchies(Hierarchy **ret, size_t *ret_n);
static void hierarchies_free(Hierarchy *h, size_t n);

int cgroup_enter_pod(const char *name, char **ret_subcgroup) {
        _cleanup_free_ char *unified_rel = NULL, *systemd_rel = NULL;
        Hierarchy *h = NULL;
        size_t n = 0;
        int r;

        r = hierarchies(&h, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++)
                if (h[i].placement)
                        r = enter_one(h[i].mount_point, h[i].controller, name,
                                      h[i].unified ? &unified_rel : &systemd_rel);
        hierarchies_free(h, n);
        if (r < 0)
                return r;
        if (!unified_rel && !systemd_rel)
                return -ENOMEDIUM; /* no cgroup file system to place the pod in */
        if (ret_subcgroup)
                *ret_subcgroup = systemd_rel ? TAKE_PTR(systemd_rel) : TAKE_PTR(unified_rel);
        return 0;
}

/* ---- finding a pod's cgroups ------------------------------------------------ */

static bool cgroup_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr("_.:@+,=-\\", c) != NULL;
}

bool cgroup_pod_path_is_valid(const char *path, char *const *names) {
        const char *p, *last = NULL;
        size_t len;

        if (!path || !names || path[0] != '/')
                return false;
        len = strlen(path);
        if (len >= 4096)
                return false;
        for (p = path; *p;) {
                size_t n;

                p++; /* the '/' */
                n = strcspn(p, "/");
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!cgroup_char_ok(p[i]))
                                return false;
                last = p;
                p += n;
        }
        return last && strv_contains(names, last);
}

/* openat2() below `rootfd`: no symlinks, no "..", no other mounts. */
static int open_beneath(int rootfd, const char *rel, int flags) {
        struct open_how how = {
                .flags = (uint64_t) (flags | O_CLOEXEC | O_DIRECTORY),
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
        };
        int fd;

        while (*rel == '/')
                rel++;
        if (!*rel)
                rel = ".";
        do
                fd = (int) syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
        while (fd < 0 && errno == EAGAIN);
        return fd < 0 ? negative_errno() : fd;
}


static void hierarchies_free(Hierarchy *h, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(h[i].mount_point);
        free(h);
}

typedef struct HierarchyList {
        Hierarchy *h;
        size_t n;
        bool have_unified, have_systemd, have_memory, have_cpu;
} HierarchyList;

static int add_hierarchy(struct libmnt_fs *fs, void *userdata) {
        HierarchyList *l = userdata;
        const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
        Hierarchy *grown;
        Hierarchy add = {};

        if (!type || !target)
                return 0;
        if (strcmp(type, "cgroup2") == 0 && !l->have_unified)
                add = (Hierarchy){ .unified = l->have_unified = true, .placement = true };
        else if (strcmp(type, "cgroup") != 0)
                return 0;
        /* The v1 hierarchy systemd uses for its own bookkeeping. */
        else if (!l->have_systemd && mountinfo_has_option(fs, "name", "systemd"))
                add = (Hierarchy){ .controller = "name=systemd", .placement = l->have_systemd = true };
        /* Those a pod with limits has cgroups in (lib/cgroup-limits.h). */
        else if (!l->have_memory && mountinfo_has_option(fs, "memory", NULL))
                add = (Hierarchy){ .controller = "memory", .placement = !(l->have_memory = true) };
        else if (!l->have_cpu && mountinfo_has_option(fs, "cpu", NULL))
                add = (Hierarchy){ .controller = "cpu", .placement = !(l->have_cpu = true) };
        else
                return 0;
        grown = reallocarray(l->h, l->n + 1, sizeof(Hierarchy));
        if (!grown)
                return -ENOMEM;
        l->h = grown;
        add.mount_point = strdup(target);
        l->h[l->n] = add;
        return l->h[l->n++].mount_point ? 0 : -ENOMEM;
}

/* The cgroup2 mount and the name=systemd one (where processes are placed),
 * and the v1 memory and cpu ones. */
static int hierarchies(Hierarchy **ret, size_t *ret_n) {
        HierarchyList l = {};
        int r = mountinfo_foreach(add_hierarchy, &l);

        if (r < 0) {
                hierarchies_free(l.h, l.n);
                return r;
        }
        *ret = l.h;
        *ret_n = l.n;
        return 0;
}

#define SEARCH_DEPTH_MAX 16
#define SEARCH_DIRS_MAX 65536U

/* Another pod's cgroup cannot hold ours, and a running pod's tree is large:
 * a search does not enter one. */
static bool is_some_pods_cgroup(const char *name) {
        return strncmp(name, "nspawn-pod-", 11) == 0 || strncmp(name, "machine-rkt\\x2d", 15) == 0 ||
               strncmp(name, "machine-nspawn\\x2dpod\\x2d", 25) == 0;
}

/* Looks for a directory called one of `names` below the hierarchy root
 * `mfd`, breadth first. */
static int search(int mfd, char *const *names, char **ret_rel) {
        _cleanup_strv_free_ char **queue = NULL;
        size_t head = 0;
        unsigned seen = 0;
        int r;

        r = strv_extend(&queue, "");
        if (r < 0)
                return r;
        while (queue[head]) {
                const char *rel = queue[head++];
                int depth = 0, fd;
                DIR *d;
                struct dirent *de;

                for (const char *p = rel; *p; p++)
                        depth += *p == '/';
                fd = open_beneath(mfd, rel, O_RDONLY);
                if (fd < 0)
                        continue; /* gone meanwhile */
                d = fdopendir(fd);
                if (!d) {
                        close(fd);
                        return -ENOMEM;
                }
                while ((de = readdir(d))) {
                        if (de->d_type != DT_DIR || de->d_name[0] == '.')
                                continue;
                        if (strv_contains(names, de->d_name)) {
                                r = asprintf(ret_rel, "%s/%s", rel, de->d_name);
                                closedir(d);
                                return r < 0 ? -ENOMEM : 0;
                        }
                        if (is_some_pods_cgroup(de->d_name) || depth >= SEARCH_DEPTH_MAX || ++seen > SEARCH_DIRS_MAX)
                                continue;
                        r = strv_extendf(&queue, "%s/%s", rel, de->d_name);
                        if (r < 0) {
                                closedir(d);
                                return r;
                        }
                }
                closedir(d);
        }
        return -ENOENT;
}

/* The pod's cgroup in one hierarchy, relative to its mount point ("/a/b"). */
static int find_pod(int mfd, const char *controller, char *const *names, const char *subcgroup, char **ret_rel) {
        _cleanup_free_ char *own = NULL, *rel = NULL;
        int fd, r;

        if (subcgroup && cgroup_pod_path_is_valid(subcgroup, names)) {
                fd = open_beneath(mfd, subcgroup, O_PATH);
                if (fd >= 0) {
                        close(fd);
                        rel = strdup(subcgroup);
                        if (!rel)
                                return -ENOMEM;
                        *ret_rel = TAKE_PTR(rel);
                        return 0;
                }
        }
        r = cgroup_own_path(controller, &own);
        if (r == -ENOMEM)
                return r;
        if (r >= 0)
                STRV_FOREACH(name, names) {
                        rel = mfree(rel);
                        if (asprintf(&rel, "%s/%s", strcmp(own, "/") == 0 ? "" : own, *name) < 0)
                                return -ENOMEM;
                        fd = open_beneath(mfd, rel, O_PATH);
                        if (fd >= 0) {
                                close(fd);
                                *ret_rel = TAKE_PTR(rel);
                                return 0;
                        }
                }
        return search(mfd, names, ret_rel);
}

/* ---- killing and removing ------------------------------------------------------ */

int cgroup_pid_in_pod(pid_t pid, char *const *names) {
        _cleanup_free_ char *path = NULL, *line = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        size_t n = 0;

        if (asprintf(&path, "/proc/%d/cgroup", (int) pid) < 0)
                return -ENOMEM;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? -ESRCH : negative_errno();
        while (getline(&line, &n, f) > 0) {
                char *a = strchr(line, ':'), *p = a ? strchr(a + 1, ':') : NULL;

                if (!p)
                        continue;
                p[1 + strcspn(p + 1, "\n")] = 0;
                /* A component equal to a name: the pod's cgroup or one below it. */
                STRV_FOREACH(name, names) {
                        size_t len = strlen(*name);

                        for (char *c = strstr(p + 1, *name); c; c = strstr(c + 1, *name))
                                if (c[-1] == '/' && (c[len] == '/' || c[len] == 0))
                                        return 1;
                }
        }
        return 0;
}

/* Kills whatever is in `dirfd`'s cgroup and below: cgroup.kill where the
 * kernel has it (5.14, cgroup2: one write, race-free against fork), else
 * SIGKILL to every listed process, each through a pidfd once it is checked
 * to be in the pod still (a listed pid may have exited and been reused). */
static void kill_tree(int dirfd, char *const *names) {
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
                while (fscanf(procs, "%ld", &pid) == 1) {
                        _cleanup_close_ int pidfd = -1;

                        if (pid <= 0 || pid > INT32_MAX)
                                continue;
                        pidfd = proc_pidfd_open((pid_t) pid);
                        if (pidfd < 0)
                                continue;
                        if (cgroup_pid_in_pod((pid_t) pid, names) == 1)
                                (void) proc_pidfd_send_signal(pidfd, SIGKILL);
                }
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
                                kill_tree(sub, names);
                }
        closedir(d);
}

/* rmdir of a cgroup tree, children first; only directories exist in it. */
static int rmdir_tree(int parentfd, const char *name) {
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
                        int k = rmdir_tree(fd, de->d_name);

                        if (k < 0 && r == 0)
                                r = k;
                }
        closedir(d);
        if (unlinkat(parentfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = negative_errno();
        return r;
}

/* Kills and removes "<mount point><rel>", whose last component is one of `names`. */
static int remove_at(int mfd, const char *rel, char *const *names, unsigned timeout_ms) {
        const char *name = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
        _cleanup_free_ char *parent = strndup(rel, (size_t) (name - rel));
        _cleanup_close_ int pfd = -1;
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        int r;

        if (!parent)
                return -ENOMEM;
        pfd = open_beneath(mfd, parent, O_RDONLY);
        if (pfd < 0)
                return pfd;
        for (unsigned waited = 0;; waited += 20) {
                r = rmdir_tree(pfd, name);
                if (r >= 0 || r != -EBUSY || waited >= timeout_ms)
                        return r;
                /* Busy: a process is left, or a killed one is not reaped yet. */
                {
                        _cleanup_close_ int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (fd >= 0)
                                kill_tree(fd, names);
                }
                (void) nanosleep(&pause, NULL);
        }
}

typedef enum Action {
        ACTION_KILL,
        ACTION_REMOVE,
} Action;

static int for_each_pod_cgroup(char *const *names, const char *subcgroup, Action action, unsigned timeout_ms) {
        Hierarchy *h = NULL;
        size_t n = 0;
        int r, found = 0, ret = 0;

        if (strv_length(names) == 0)
                return -EINVAL;
        STRV_FOREACH(name, names)
                if (strchr(*name, '/') || (*name)[0] == '.' || !**name)
                        return -EINVAL;
        r = hierarchies(&h, &n);
        if (r < 0)
                return r;
        /* cgroup2 first: one cgroup.kill there kills every process of the
         * pod, which is in both hierarchies. */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_close_ int mfd = -1;
                        _cleanup_free_ char *rel = NULL;

                        if (h[i].unified != (pass == 0))
                                continue;
                        mfd = open(h[i].mount_point, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (mfd < 0) {
                                if (ret == 0)
                                        ret = negative_errno();
                                continue;
                        }
                        r = find_pod(mfd, h[i].controller, names, subcgroup, &rel);
                        if (r == -ENOENT)
                                continue;
                        if (r >= 0 && action == ACTION_KILL) {
                                _cleanup_close_ int fd = open_beneath(mfd, rel, O_RDONLY);

                                if (fd >= 0)
                                        kill_tree(fd, names);
                                else
                                        r = fd;
                        } else if (r >= 0)
                                r = remove_at(mfd, rel, names, timeout_ms);
                        if (r == -ENOENT) /* gone meanwhile */
                                continue;
                        if (r < 0) {
                                if (ret == 0)
                                        ret = r;
                                continue;
                        }
                        found++;
                }
        hierarchies_free(h, n);
        return ret < 0 ? ret : found;
}

int cgroup_pod_kill(char *const *names, const char *subcgroup) {
        return for_each_pod_cgroup(names, subcgroup, ACTION_KILL, 0);
}

int cgroup_pod_remove(char *const *names, const char *subcgroup, unsigned timeout_ms) {
        int r = for_each_pod_cgroup(names, subcgroup, ACTION_REMOVE, timeout_ms);

        return r < 0 ? r : r > 0;
}

int cgroup_remove_pod(const char *name, unsigned timeout_ms) {
        char *names[] = { (char *) name, NULL };
        int r = cgroup_pod_remove(names, NULL, timeout_ms);

        return r < 0 ? r : r == 0 ? -ENOENT : 0;
}
