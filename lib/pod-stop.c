/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "cgroup.h"
#include "names.h"
#include "pod-stop.h"
#include "pod.h"
#include "proc-state.h"
#include "strv.h"

#define POLL_USEC 10000ULL

int pod_init_pid(pid_t nspawn_pid, pid_t *ret) {
        _cleanup_close_ int proc = -1;
        _cleanup_free_ char *text = NULL;
        char path[64], *end;
        unsigned long v;

        (void) snprintf(path, sizeof(path), "/proc/%d/task/%d", (int) nspawn_pid, (int) nspawn_pid);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return errno == ENOENT ? -ESRCH : negative_errno();
        if (proc_read_file(proc, "children", 4096, &text, NULL) < 0)
                return -ESRCH;
        errno = 0;
        v = strtoul(text, &end, 10);
        if (end == text || errno != 0 || v == 0 || v > INT32_MAX)
                return -EAGAIN;
        /* While nspawn sets the pod up its only child is the "outer child",
         * which forks the init and exits; the init is reparented to nspawn
         * (a subreaper) and is then its only child. */
        *ret = (pid_t) v;
        return 0;
}

int pod_init_takes_stop(pid_t nspawn_pid) {
        _cleanup_close_ int proc = -1;
        ProcStatus s = {};
        uint64_t bit = UINT64_C(1) << (SIGRTMIN + 3 - 1);
        char path[64];
        pid_t init;
        int r;

        r = pod_init_pid(nspawn_pid, &init);
        if (r == -EAGAIN)
                return 0;
        if (r < 0)
                return r;
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) init);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0 || proc_status_read(proc, &s) < 0)
                return 0; /* it just exited: the outer child, most likely */
        /* The init of a PID namespace of its own (not nspawn's outer child),
         * and ready: systemd blocks the signals it handles (signalfd). */
        r = s.ppid == nspawn_pid && s.ns_depth >= 2 && s.ns_pid == 1 && ((s.sig_blk | s.sig_cgt) & bit);
        proc_status_done(&s);
        return r;
}

/* SIGTERM to the pod's nspawn, once it is sure to be the pod's and its init
 * will get the stop request. */
static int stop_in_order(int dir_fd, const uint8_t uuid[16], NpError *err) {
        _cleanup_close_ int pidfd = -1;
        uint64_t deadline = now_usec() + POD_STOP_READY_TIMEOUT_USEC;
        pid_t pid = 0;
        int r;

        r = pod_pin_nspawn(dir_fd, uuid, &pidfd, &pid);
        if (r == -ESRCH) {
                if (pod_read_pid(dir_fd, &pid) < 0)
                        return error_set(err, -ESRCH, NULL,
                                         "it has no valid ppid file: it is starting or its nspawn is gone; try "
                                         "again, or use --force");
                return error_set(err, -ESRCH, NULL, "its nspawn (pid %d) is gone; use --force", (int) pid);
        }
        if (r == -EPERM) {
                char name[49];

                (void) pod_read_pid(dir_fd, &pid);
                return error_set(err, -EPERM, NULL,
                                 "pid %d in its ppid file is not in the pod's cgroup %s; not signalling it; use "
                                 "--force",
                                 (int) pid, pod_cgroup_name(uuid, name));
        }
        if (r < 0)
                return error_set(err, r, NULL, "cannot check its nspawn: %s", strerror(-r));
        for (;;) {
                r = pod_init_takes_stop(pid);
                if (r > 0)
                        break;
                if (r < 0 || proc_pidfd_send_signal(pidfd, 0) < 0)
                        return error_set(err, -ESRCH, NULL, "its nspawn (pid %d) is gone; use --force", (int) pid);
                if (now_usec() >= deadline)
                        return error_set(err, -ETIMEDOUT, NULL,
                                         "its init did not get ready for a stop request in %llu s; try again, or "
                                         "use --force",
                                         (unsigned long long) (POD_STOP_READY_TIMEOUT_USEC / 1000000ULL));
                (void) nanosleep(&(struct timespec){ .tv_nsec = POLL_USEC * 1000 }, NULL);
        }
        if (proc_pidfd_send_signal(pidfd, SIGTERM) < 0)
                return error_set(err, negative_errno(), NULL, "cannot signal its nspawn (pid %d): %m", (int) pid);
        return 0;
}

static int stop_force(int dir_fd, const uint8_t uuid[16], NpError *err) {
        _cleanup_strv_free_ char **names = pod_cgroup_names(uuid);
        _cleanup_free_ char *sub = NULL;
        int r;

        if (!names)
                return -ENOMEM;
        /* A subcgroup file that is not one of this pod's paths is ignored:
         * the cgroups are then looked for by name (lib/cgroup.h). */
        (void) pod_read_subcgroup(dir_fd, uuid, &sub);
        r = cgroup_pod_kill(names, sub);
        if (r < 0)
                return error_set(err, r, NULL, "cannot kill its cgroups: %s", strerror(-r));
        if (r == 0)
                return error_set(err, -ENOENT, NULL, "it has no cgroups (yet): it is still starting; try again");
        return 0;
}

int pod_stop(int dir_fd, const uint8_t uuid[16], bool force, NpError *err) {
        return force ? stop_force(dir_fd, uuid, err) : stop_in_order(dir_fd, uuid, err);
}
