/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-attach.h"
#include "fd-util.h"
#include "pod-enter.h"
#include "proc-state.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

typedef struct Candidate {
        int pidfd;
        pid_t pid;
        uint64_t start;
} Candidate;

/*
 * Is `pid` (listed in the app's service cgroup) the app's main process? It
 * must be a child of the pod's init (PID 1 of its PID namespace):
 * processes the app forked are the app's
 * children, and commands run by enter are children of enter's joiner, which
 * is outside the pod. Its root must be the app's root directory,
 * /opt/stage2/<app>/rootfs of the pod's init. Checked
 * after a pidfd is opened and confirmed alive after: all of it is about the
 * pidfd's process, not whatever holds the pid later.
 */
static int check_candidate(pid_t pid, pid_t init_pid, const char *root_path, Candidate *ret) {
        _cleanup_close_ int pidfd = -1, proc = -1, parent = -1, init_root = -1, app_root = -1;
        ProcStatus s = {}, ps = {};
        dev_t d1, d2;
        ino_t i1, i2;
        struct stat st, app_st;
        char path[64];
        uint64_t start;
        pid_t ppid;
        int r;

        pidfd = proc_pidfd_open(pid);
        if (pidfd < 0)
                return negative_errno();
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return negative_errno();
        r = proc_status_read(proc, &s);
        if (r < 0)
                return r;
        ppid = s.ppid;
        proc_status_done(&s);
        if (ppid != init_pid)
                return -ESRCH; /* not a child of the pod's init */
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) ppid);
        parent = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return negative_errno();
        r = proc_status_read(parent, &ps);
        if (r < 0)
                return r;
        proc_status_done(&ps);
        if (ps.ns_depth < 2 || ps.ns_pid != 1)
                return -ESRCH; /* the init of a pod's PID namespace */
        if ((r = proc_ns_id(proc, "pid", &d1, &i1)) < 0 || (r = proc_ns_id(parent, "pid", &d2, &i2)) < 0)
                return r;
        if (d1 != d2 || i1 != i2)
                return -ESRCH;
        /* The app's root as the pod sees it: in the pod's mount namespace an
         * app from an ACI has an overlay there, which the host never sees. */
        init_root = openat(parent, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (init_root < 0)
                return negative_errno();
        app_root = fd_open_in_root(init_root, root_path, O_PATH | O_DIRECTORY, 0, true);
        if (app_root < 0)
                return app_root;
        if (fstat(app_root, &app_st) < 0 || fstatat(proc, "root", &st, 0) < 0)
                return negative_errno();
        if (st.st_dev != app_st.st_dev || st.st_ino != app_st.st_ino)
                return -ESRCH;
        r = proc_start_time(proc, &start);
        if (r < 0)
                return r;
        if (proc_pidfd_send_signal(pidfd, 0) < 0)
                return negative_errno();
        *ret = (Candidate){ .pidfd = TAKE_FD(pidfd), .pid = pid, .start = start };
        return 0;
}

/* The pids in one cgroup.procs, checked; the earliest started wins (an
 * orphan of the app reparented to the pod's init came later). */
static int scan_cgroup(int dir, pid_t init_pid, const char *root_path, Candidate *best) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r;

        r = proc_read_file(dir, "cgroup.procs", 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        for (char *w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
                Candidate c = { .pidfd = -1 };
                unsigned long v;
                char *e;

                errno = 0;
                v = strtoul(w, &e, 10);
                if (errno != 0 || *e != 0 || v == 0 || v > INT32_MAX)
                        continue;
                if (check_candidate((pid_t) v, init_pid, root_path, &c) < 0)
                        continue;
                if (best->pidfd < 0 || c.start < best->start) {
                        closep(&best->pidfd);
                        *best = c;
                } else
                        closep(&c.pidfd);
        }
        return 0;
}

/* The app's main process: a pidfd of it, and its pid. systemd in the pod
 * runs the app as <app>.service in system.slice; nspawn puts the pod's init
 * in "payload" below the pod's cgroup. The pod's systemd tracks its units in
 * name=systemd on hybrid hosts and in cgroup2 on unified ones. */
/* The app's service cgroup in one hierarchy, from the init's own: the pod's
 * systemd keeps itself in init.scope (cgroup2) or at the top (a v1
 * name=systemd hierarchy) and its services in system.slice beside it. */
static char *service_cgroup(const char *init_path, const char *app) {
        size_t n = strlen(init_path);
        char *p;

        if (n >= 11 && strcmp(init_path + n - 11, "/init.scope") == 0)
                n -= 11;
        if (n == 1 && init_path[0] == '/')
                n = 0;
        if (asprintf(&p, "%.*s/system.slice/%s.service", (int) n, init_path, app) < 0)
                return NULL;
        return p;
}

int pod_app_main_process(pid_t init_pid, const char *app, int *ret_pidfd, pid_t *ret_pid) {
        _cleanup_free_ char *root_path = NULL, *text = NULL;
        _cleanup_close_ int proc = -1;
        Candidate best = { .pidfd = -1 };
        CgroupMembership *m = NULL;
        char path[64];
        size_t n = 0;
        int r;

        if (asprintf(&root_path, "opt/stage2/%s/rootfs", app) < 0)
                return -ENOMEM;
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) init_pid);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        r = proc_read_file(proc, "cgroup", 64 * 1024, &text, &n);
        if (r >= 0)
                r = cgroup_membership_parse(text, n, &m, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && best.pidfd < 0; i++) {
                _cleanup_free_ char *service = NULL;
                _cleanup_close_ int hfd = -1, dir = -1;

                /* Where systemd keeps its units: cgroup2, or name=systemd. */
                if (m[i].controllers[0] != 0 && strcmp(m[i].controllers, "name=systemd") != 0)
                        continue;
                service = service_cgroup(m[i].path, app);
                if (!service) {
                        r = -ENOMEM;
                        break;
                }
                if (cgroup_hierarchy_open(m[i].controllers, &hfd) < 0)
                        continue;
                dir = cgroup_path_open(hfd, service, O_PATH | O_DIRECTORY);
                if (dir < 0)
                        continue;
                (void) scan_cgroup(dir, init_pid, root_path, &best);
        }
        cgroup_membership_free(m, n);
        if (r < 0) {
                closep(&best.pidfd);
                return r;
        }
        if (best.pidfd < 0)
                return -ESRCH;
        *ret_pidfd = best.pidfd;
        *ret_pid = best.pid;
        return 0;
}

int pod_exec_sealed(int fd, char *const *argv, char *const *envp) {
        _cleanup_close_ int mfd = -1;
        char buf[64 * 1024];
        int r = 0;

        mfd = memfd_create("nspawn-pod-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
                mfd = memfd_create("nspawn-pod-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0)
                return negative_errno();
        for (;;) {
                ssize_t k = read(fd, buf, sizeof(buf));

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        r = k < 0 ? negative_errno() : 0;
                        break;
                }
                r = fd_write_all(mfd, buf, (size_t) k);
                if (r < 0)
                        break;
        }
        if (r >= 0 && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                r = negative_errno();
        if (r < 0)
                return r;
        fflush(NULL);
        syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
        return negative_errno();
}

int pod_exec_is_sealed(void) {
        _cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        int seals;

        if (fd < 0)
                return negative_errno();
        /* A regular file has no seals (EINVAL); our copy has them all. */
        seals = fcntl(fd, F_GET_SEALS);
        return seals >= 0 && (seals & F_SEAL_WRITE);
}
