/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libmount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bind-mount.h"
#include "cgroup.h"
#include "cgroup-limits.h"
#include "fd-util.h"
#include "macro.h"
#include "mount-util.h"
#include "mountinfo.h"
#include "render.h"
#include "rm-rf.h"

/* cfs_period_us the quota is counted in: the kernel's default, systemd's. */
#define CPU_PERIOD_USEC 100000

static const char *const controller_names[_CGROUP_CTRL_MAX] = {
        [CGROUP_CTRL_MEMORY] = "memory",
        [CGROUP_CTRL_CPU] = "cpu",
};

const char *cgroup_controller_to_string(CgroupController c) {
        return c < _CGROUP_CTRL_MAX ? controller_names[c] : NULL;
}

unsigned cgroup_limits_mask(const CgroupLimits *l) {
        return (l->has_memory ? CGROUP_CTRL_MASK(CGROUP_CTRL_MEMORY) : 0) |
               (l->has_cpu_quota || l->has_cpu_shares ? CGROUP_CTRL_MASK(CGROUP_CTRL_CPU) : 0);
}

unsigned cgroup_limits_own_mask(const CgroupLimits *l) {
        return cgroup_limits_mask(l) | (l->memory_accounted ? CGROUP_CTRL_MASK(CGROUP_CTRL_MEMORY) : 0);
}

unsigned cgroup_places_v1_mask(const CgroupPlace places[_CGROUP_CTRL_MAX]) {
        unsigned m = 0;

        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                if (places[c] == CGROUP_PLACE_V1)
                        m |= CGROUP_CTRL_MASK(c);
        return m;
}

/* The mount points of cgroup2 and of the v1 hierarchies of our
 * controllers, from one reading of the mount table (the first of each). */
typedef struct CgroupMounts {
        char *unified;
        char *v1[_CGROUP_CTRL_MAX];
} CgroupMounts;

static void cgroup_mounts_done(CgroupMounts *m) {
        free(m->unified);
        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                free(m->v1[c]);
}

static int collect_mount(struct libmnt_fs *fs, void *userdata) {
        CgroupMounts *m = userdata;
        const char *type = mnt_fs_get_fstype(fs), *target = mnt_fs_get_target(fs);
        char **slot = NULL;

        if (!type || !target)
                return 0;
        if (strcmp(type, "cgroup2") == 0)
                slot = &m->unified;
        else if (strcmp(type, "cgroup") == 0)
                for (CgroupController c = 0; c < _CGROUP_CTRL_MAX && !slot; c++)
                        if (mountinfo_has_option(fs, controller_names[c], NULL))
                                slot = &m->v1[c];
        if (!slot || *slot)
                return 0;
        *slot = strdup(target);
        return *slot ? 0 : -ENOMEM;
}

static int cgroup_mounts_read(CgroupMounts *ret) {
        int r = mountinfo_foreach(collect_mount, ret);

        if (r < 0)
                cgroup_mounts_done(ret);
        return r;
}

/* The mount point of the v1 hierarchy of `controller` (one of ours), or of
 * cgroup2 (NULL). */
static int mount_of(const char *controller, char **ret) {
        _cleanup_(cgroup_mounts_done) CgroupMounts m = {};
        char **slot = &m.unified;
        int r = cgroup_mounts_read(&m);

        if (r < 0)
                return r;
        for (CgroupController c = 0; controller && c < _CGROUP_CTRL_MAX; c++)
                if (strcmp(controller, controller_names[c]) == 0)
                        slot = &m.v1[c];
        if (!*slot)
                return -ENOENT;
        *ret = TAKE_PTR(*slot);
        return 0;
}

/* The directory of our own cgroup in a hierarchy, "<mount><own path>". */
static int own_dir(const char *controller, char **ret) {
        _cleanup_free_ char *m = NULL, *own = NULL;
        int r;

        if ((r = mount_of(controller, &m)) < 0 || (r = cgroup_own_path(controller, &own)) < 0)
                return r;
        return asprintf(ret, "%s%s", m, strcmp(own, "/") == 0 ? "" : own) < 0 ? -ENOMEM : 0;
}

static bool word_listed(const char *text, const char *word) {
        size_t n = strlen(word);

        for (const char *p = text; (p = strstr(p, word)); p += n)
                if ((p == text || p[-1] == ' ' || p[-1] == '\n') && (p[n] == 0 || p[n] == ' ' || p[n] == '\n'))
                        return true;
        return false;
}

static int read_small(const char *dir, const char *name, char **ret) {
        _cleanup_close_ int d = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

        if (d < 0)
                return negative_errno();
        return fd_read_file_in_root(d, name, 4096, ret, NULL);
}

int cgroup_places_detect(CgroupPlace ret[_CGROUP_CTRL_MAX]) {
        _cleanup_(cgroup_mounts_done) CgroupMounts m = {};
        _cleanup_free_ char *own = NULL, *dir = NULL, *controllers = NULL;
        int r;

        /* On every pod start: one reading of the mount table. */
        r = cgroup_mounts_read(&m);
        if (r < 0)
                return r;
        if (m.unified && (r = cgroup_own_path(NULL, &own)) >= 0) {
                if (asprintf(&dir, "%s%s", m.unified, strcmp(own, "/") == 0 ? "" : own) < 0)
                        return -ENOMEM;
                r = read_small(dir, "cgroup.controllers", &controllers);
        }
        if (r < 0 && r != -ENOENT)
                return r;
        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                ret[c] = controllers && word_listed(controllers, controller_names[c]) ? CGROUP_PLACE_UNIFIED
                         : m.v1[c]                                                   ? CGROUP_PLACE_V1
                                                                                     : CGROUP_PLACE_NONE;
        return 0;
}

/* ---- what limits need ------------------------------------------------------ */

/* The isolator behind the first limit of `l` that needs `c`. */
static const char *limit_name(const CgroupLimits *l, CgroupController c) {
        if (c == CGROUP_CTRL_MEMORY)
                return "resource/memory";
        return l->has_cpu_quota ? "resource/cpu" : "os/linux/cpu-shares";
}

/* The first holder of a limit needing `c`: "the pod" or `app "NAME"`. */
static int who_needs(CgroupController c, const CgroupLimits *pod, char *const *apps, const CgroupLimits *app_limits,
                     char **ret_who, const char **ret_limit) {
        if (cgroup_limits_mask(pod) & CGROUP_CTRL_MASK(c)) {
                *ret_limit = limit_name(pod, c);
                return (*ret_who = strdup("the pod")) ? 0 : -ENOMEM;
        }
        for (size_t i = 0; apps[i]; i++)
                if (cgroup_limits_mask(&app_limits[i]) & CGROUP_CTRL_MASK(c)) {
                        *ret_limit = limit_name(&app_limits[i], c);
                        return asprintf(ret_who, "app \"%s\"", apps[i]) < 0 ? -ENOMEM : 0;
                }
        return -ENOENT;
}

static int refuse(NpError *err, CgroupController c, const CgroupLimits *pod, char *const *apps,
                  const CgroupLimits *app_limits, const char *why) {
        _cleanup_free_ char *who = NULL;
        const char *limit = NULL;
        int r = who_needs(c, pod, apps, app_limits, &who, &limit);

        if (r < 0)
                return r;
        return error_set(err, -EOPNOTSUPP, NULL,
                         "%s: its %s limit cannot be enforced on this host: %s; the pod was not started "
                         "(docs/resources.md)",
                         who, limit, why);
}

/* ---- writing limits ------------------------------------------------------------ */

static int write_knob(int dirfd, const char *name, uint64_t v) {
        _cleanup_close_ int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        char buf[32];
        int n;

        if (fd < 0)
                return negative_errno();
        n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
        return fd_write_all(fd, buf, (size_t) n);
}

/* v1 limits of controller `c` into the cgroup `dirfd`. */
static int write_v1(int dirfd, CgroupController c, const CgroupLimits *l, const char **ret_knob) {
        int r = 0;

        if (c == CGROUP_CTRL_MEMORY && l->has_memory) {
                *ret_knob = "memory.limit_in_bytes";
                r = write_knob(dirfd, *ret_knob, l->memory);
                /* With swap accounting the limit covers swap too: a limited
                 * app must not page out what it may not keep. */
                if (r >= 0 && faccessat(dirfd, "memory.memsw.limit_in_bytes", F_OK, 0) == 0) {
                        *ret_knob = "memory.memsw.limit_in_bytes";
                        r = write_knob(dirfd, *ret_knob, l->memory);
                }
        }
        if (c == CGROUP_CTRL_CPU && l->has_cpu_quota) {
                *ret_knob = "cpu.cfs_period_us";
                r = write_knob(dirfd, *ret_knob, CPU_PERIOD_USEC);
                if (r >= 0) {
                        /* At least the kernel's 1 ms minimum. */
                        uint64_t q = l->cpu_milli * CPU_PERIOD_USEC / 1000;

                        *ret_knob = "cpu.cfs_quota_us";
                        r = write_knob(dirfd, *ret_knob, q < 1000 ? 1000 : q);
                }
        }
        if (r >= 0 && c == CGROUP_CTRL_CPU && l->has_cpu_shares) {
                *ret_knob = "cpu.shares";
                r = write_knob(dirfd, *ret_knob, l->cpu_shares);
        }
        return r;
}

/* Binds `dirfd`'s file `name` onto the stage1's rkt/cgroup/<app>/<as>. */
static int bind_file(int dirfd, const char *name, bool read_only, int s1, const char *app, const char *as) {
        _cleanup_close_ int tree = -1, dir = -1, target = -1;
        _cleanup_free_ char *path = NULL;
        int r;

        if (asprintf(&path, STAGE1_CGROUP_DIR "/%s", app) < 0)
                return -ENOMEM;
        r = fd_mkdir_p(s1, path, 0755, &dir);
        if (r < 0)
                return r;
        target = openat(dir, as, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (target < 0)
                return negative_errno();
        r = bind_mount_clone(dirfd, name, read_only ? BIND_MOUNT_READ_ONLY : 0, &tree);
        if (r < 0)
                return r;
        return bind_mount_attach(tree, target, NULL);
}

static int setup_v1(const char *cgname, CgroupController c, const CgroupLimits *pod, char *const *apps,
                    const CgroupLimits *app_limits, const uid_t *uids, int s1, int *ret_procs, bool *ret_made,
                    NpError *err) {
        const char *ctrl = controller_names[c], *knob = NULL;
        _cleanup_free_ char *own = NULL, *dir = NULL;
        _cleanup_close_ int ownfd = -1, podfd = -1;
        int r;

        r = own_dir(ctrl, &own);
        if (r < 0)
                return error_set(err, r, NULL, "cannot find our own cgroup in the %s hierarchy: %s", ctrl,
                                 strerror(-r));
        if (asprintf(&dir, "%s/%s", own, cgname) < 0)
                return -ENOMEM;
        ownfd = open(own, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (ownfd < 0 || mkdirat(ownfd, cgname, 0755) < 0)
                return error_set(err, negative_errno(), dir, "cannot create the pod's %s cgroup: %m", ctrl);
        *ret_made = true; /* removed by the caller from now on */
        podfd = openat(ownfd, cgname, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (podfd < 0)
                return error_set(err, negative_errno(), dir, "cannot open the pod's %s cgroup: %m", ctrl);
        r = write_v1(podfd, c, pod, &knob);
        if (r < 0)
                return error_set(err, r, dir, "cannot write the pod's %s: %s", knob, strerror(-r));

        for (size_t i = 0; apps[i]; i++) {
                _cleanup_close_ int appfd = -1;

                if (!(cgroup_limits_own_mask(&app_limits[i]) & CGROUP_CTRL_MASK(c)))
                        continue;
                if (mkdirat(podfd, apps[i], 0755) < 0 ||
                    (appfd = openat(podfd, apps[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        return error_set(err, negative_errno(), dir, "cannot create the %s cgroup of app \"%s\": %m",
                                         ctrl, apps[i]);
                r = write_v1(appfd, c, &app_limits[i], &knob);
                if (r < 0)
                        return error_set(err, r, dir, "app \"%s\": cannot write %s: %s", apps[i], knob,
                                         strerror(-r));
                /* app-stdio runs as the app's user: the file is its to write
                 * (it can only move its own processes, into its own cgroup). */
                if (uids[i] != 0 && fchownat(appfd, "cgroup.procs", uids[i], (gid_t) -1, 0) < 0)
                        return error_set(err, negative_errno(), dir,
                                         "app \"%s\": cannot give its cgroup.procs to uid %u: %m", apps[i],
                                         (unsigned) uids[i]);
                r = bind_file(appfd, "cgroup.procs", false, s1, apps[i], ctrl);
                if (r >= 0 && c == CGROUP_CTRL_MEMORY)
                        r = bind_file(appfd, "memory.oom_control", true, s1, apps[i], "memory.oom_control");
                if (r < 0)
                        return error_set(err, r, NULL, "app \"%s\": cannot bind its %s cgroup into the pod: %s",
                                         apps[i], ctrl, strerror(-r));
        }
        *ret_procs = openat(podfd, "cgroup.procs", O_WRONLY | O_CLOEXEC);
        if (*ret_procs < 0)
                return error_set(err, negative_errno(), dir, "cannot open the pod's %s cgroup.procs: %m", ctrl);
        return 0;
}

/* On cgroup2 the pod's systemd sets the apps' limits and we set the pod's,
 * both below our own cgroup: it must hand the controller down. */
static int check_unified(CgroupController c, const CgroupLimits *pod, char *const *apps,
                         const CgroupLimits *app_limits, NpError *err) {
        _cleanup_free_ char *own = NULL, *enabled = NULL, *why = NULL;
        _cleanup_close_ int fd = -1, sub = -1;
        const char *ctrl = controller_names[c];
        char word[16];
        int r;

        r = own_dir(NULL, &own);
        if (r >= 0)
                r = read_small(own, "cgroup.subtree_control", &enabled);
        if (r >= 0 && word_listed(enabled, ctrl))
                return 0;
        if (r >= 0) {
                fd = open(own, O_PATH | O_DIRECTORY | O_CLOEXEC);
                sub = fd < 0 ? -1 : openat(fd, "cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
                (void) snprintf(word, sizeof(word), "+%s", ctrl);
                r = sub < 0 ? negative_errno() : fd_write_all(sub, word, strlen(word));
                if (r >= 0)
                        return 0;
        }
        if (asprintf(&why,
                     "the %s controller cannot be handed down from our cgroup %s (cgroup.subtree_control: %s); "
                     "run the pod from a cgroup that delegates it, e.g. systemd-run --scope -p Delegate=yes",
                     ctrl, own ? own : "?", strerror(-r)) < 0)
                return -ENOMEM;
        return refuse(err, c, pod, apps, app_limits, why);
}

int cgroup_limits_setup(const char *cgname, const CgroupPlace places[_CGROUP_CTRL_MAX], const CgroupLimits *pod,
                        char *const *apps, const CgroupLimits *app_limits, const uid_t *uids, int s1,
                        CgroupLimitsSetup *ret, NpError *err) {
        CgroupLimitsSetup s = CGROUP_LIMITS_SETUP_INIT;
        bool made = false;
        unsigned need = cgroup_limits_mask(pod);
        int r = 0;

        for (size_t i = 0; apps[i]; i++)
                need |= cgroup_limits_mask(&app_limits[i]);
        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX && r >= 0; c++) {
                if (!(need & CGROUP_CTRL_MASK(c)))
                        continue;
                if (places[c] == CGROUP_PLACE_NONE)
                        r = refuse(err, c, pod, apps, app_limits,
                                   c == CGROUP_CTRL_MEMORY
                                           ? "the kernel gives no memory controller, neither in the cgroup2 "
                                             "hierarchy nor in a cgroup v1 one"
                                           : "the kernel gives no cpu controller, neither in the cgroup2 "
                                             "hierarchy nor in a cgroup v1 one");
                else if (places[c] == CGROUP_PLACE_UNIFIED)
                        r = check_unified(c, pod, apps, app_limits, err);
        }
        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX && r >= 0; c++)
                if ((need & CGROUP_CTRL_MASK(c)) && places[c] == CGROUP_PLACE_V1)
                        r = setup_v1(cgname, c, pod, apps, app_limits, uids, s1, &s.procs[c], &made, err);
        if (r < 0) {
                _cleanup_close_ int rkt = openat(s1, "rkt", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (rkt >= 0) {
                        (void) mount_umount_beneath(rkt, "cgroup");
                        (void) rm_rf_at(rkt, "cgroup");
                }
                /* The pod's cgroups, as a pod's end removes them (lib/cgroup.h). */
                if (made)
                        (void) cgroup_remove_pod(cgname, 0);
                cgroup_limits_release(&s);
        } else {
                s.pod = *pod;
                for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                        s.pod_unified = s.pod_unified ||
                                        ((cgroup_limits_mask(pod) & CGROUP_CTRL_MASK(c)) && places[c] == CGROUP_PLACE_UNIFIED);
                *ret = s;
        }
        return r;
}

int cgroup_limits_enter(const CgroupLimitsSetup *s) {
        char pid[32];
        int len = snprintf(pid, sizeof(pid), "%d\n", (int) getpid()), r;

        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                if (s->procs[c] >= 0 && (r = fd_write_all(s->procs[c], pid, (size_t) len)) < 0)
                        return r;
        if (s->pod_unified) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_close_ int fd = -1;

                r = own_dir(NULL, &dir);
                if (r < 0)
                        return r;
                fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
                if (s->pod.has_memory && (r = write_knob(fd, "memory.max", s->pod.memory)) < 0)
                        return r;
                if (s->pod.has_cpu_quota) {
                        char buf[64];
                        _cleanup_close_ int cpu = openat(fd, "cpu.max", O_WRONLY | O_CLOEXEC);
                        uint64_t q = s->pod.cpu_milli * CPU_PERIOD_USEC / 1000;
                        int n = snprintf(buf, sizeof(buf), "%" PRIu64 " %d\n", q < 1000 ? 1000 : q, CPU_PERIOD_USEC);

                        if (cpu < 0 || (r = fd_write_all(cpu, buf, (size_t) n)) < 0)
                                return cpu < 0 ? negative_errno() : r;
                }
                if (s->pod.has_cpu_shares &&
                    (r = write_knob(fd, "cpu.weight", s->pod.cpu_weight)) < 0)
                        return r;
        }
        return 0;
}

void cgroup_limits_release(CgroupLimitsSetup *s) {
        for (CgroupController c = 0; c < _CGROUP_CTRL_MAX; c++)
                s->procs[c] = safe_close(s->procs[c]);
}
