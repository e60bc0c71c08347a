/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

#include "rm-rf.h"
#include "cgroup.h"
#include "fd-util.h"
#include "image.h"
#include "mount-util.h"
#include "names.h"
#include "log.h"
#include "manifest.h"
#include "pod-enter.h"
#include "pod-gc.h"
#include "pod-stop.h"
#include "strv.h"
#include "pod-util.h"
#include "stage1.h"
#include "proc-state.h"

int pod_util_open_pods(const GlobalOptions *g, int *ret_fd) {
        int r = pod_open_pods_dir(g->dir, ret_fd);

        if (r < 0)
                log_error("cannot open the data directory '%s': %s", g->dir,
                          strerror(-r));
        return r;
}

int pod_util_exit_code(int r) {
        if (r >= 0)
                return EXIT_OK;
        return IN_SET(r, -EINVAL, -ENOENT, -ENOTUNIQ, -EBUSY) ? EXIT_INVALID : EXIT_INTERNAL;
}

/* The state a pod is in now, for messages: "running", or "gone". */
static const char *status_now(int pods_fd, const PodEntry *e) {
        _cleanup_close_ int fd = -1;
        int r;

        if (pod_open(pods_fd, e->uuid, e->state, &fd) < 0)
                return "gone";
        r = pod_is_locked(fd);
        return r < 0 ? "unknown" : pod_status_to_string(pod_status_of(e->state, r > 0));
}

int pod_util_resolve(int pods_fd, const char *ref, PodEntry *ret) {
        _cleanup_free_ PodEntry *m = NULL;
        char hex[33];
        size_t n = 0;
        int r;

        if (pod_ref_parse(ref, hex) < 0) {
                log_error("\"%s\" is not a pod UUID or a prefix of one (at least %d hex digits, with or without "
                          "the dashes)",
                          ref, POD_REF_PREFIX_MIN);
                return -EINVAL;
        }
        r = pod_find(pods_fd, hex, &m, &n);
        if (r < 0) {
                log_error("cannot list the pods: %s", strerror(-r));
                return r;
        }
        if (n == 0) {
                log_error("no pod %s \"%s\"", strlen(hex) == 32 ? "with UUID" : "matches",
                          ref);
                return -ENOENT;
        }
        if (n > 1) {
                log_error("\"%s\" matches %zu pods; give more of the UUID:", ref, n);
                for (size_t i = 0; i < n; i++) {
                        char u[37];

                        fprintf(stderr, "  %s  %s\n", uuid_format(m[i].uuid, u), status_now(pods_fd, &m[i]));
                }
                return -ENOTUNIQ;
        }
        *ret = m[0];
        return 0;
}

int pod_util_open(int pods_fd, const char *ref, PodEntry *ret_entry, PodState *ret_state,
                  int *ret_fd) {
        PodEntry e;
        char u[37];
        int r;

        r = pod_util_resolve(pods_fd, ref, &e);
        if (r < 0)
                return r;
        /* Where it is now: it may have moved since the listing. */
        r = pod_open_any(pods_fd, e.uuid, ret_state, ret_fd);
        if (r == -ENOENT) {
                log_error("pod %s is gone (removed meanwhile)", uuid_format(e.uuid, u));
                return r;
        }
        if (r < 0) {
                log_error("cannot open pod %s: %s", uuid_format(e.uuid, u),
                          strerror(-r));
                return -EIO;
        }
        *ret_entry = e;
        return 0;
}

int pod_util_load(int pods_fd, const char *ref, PodInfoFlags flags, PodInfo **ret) {
        _cleanup_close_ int fd = -1;
        PodEntry e;
        PodState state;
        char u[37];
        int r;

        r = pod_util_open(pods_fd, ref, &e, &state, &fd);
        if (r < 0)
                return r;
        r = pod_info_read(fd, e.uuid, state, flags, ret);
        if (r < 0)
                log_error("cannot read pod %s: %s", uuid_format(e.uuid, u), strerror(-r));
        return r;
}

int json_print(json_t *v) {
        char *s;

        if (!v)
                return -ENOMEM;
        s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(v);
        if (!s)
                return -ENOMEM;
        puts(s);
        free(s);
        return 0;
}

json_t *json_time(const struct timespec *t) {
        char buf[64];

        return t->tv_sec == 0 ? json_null() : json_string(time_format(t, buf));
}

static void on_alarm(int sig) {
        (void) sig; /* only there to interrupt flock() */
}

int pod_util_wait_unlocked(int dir_fd, uint64_t timeout_usec) {
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct sigaction sa = { .sa_handler = on_alarm }, old;
        uint64_t deadline = 0;
        int r = 0;

        if (fd < 0)
                return negative_errno();
        if (timeout_usec != UINT64_MAX) {
                struct itimerval it = { .it_interval = { 0, 50000 } };

                deadline = now_usec() + timeout_usec;
                if (timeout_usec == 0)
                        return flock(fd, LOCK_SH | LOCK_NB) < 0 ? (errno == EWOULDBLOCK ? -ETIMEDOUT : negative_errno()) : 0;
                /* No SA_RESTART: the alarm makes flock() return EINTR. It
                 * repeats, in case it fires just before flock() is entered. */
                it.it_value.tv_sec = (time_t) (timeout_usec / 1000000ULL);
                it.it_value.tv_usec = (suseconds_t) (timeout_usec % 1000000ULL);
                if (sigaction(SIGALRM, &sa, &old) < 0 || setitimer(ITIMER_REAL, &it, NULL) < 0)
                        return negative_errno();
        }
        /* A shared lock is granted as soon as the pod's exclusive one is
         * released: when the run process and nspawn have both exited. */
        while (flock(fd, LOCK_SH) < 0) {
                if (errno != EINTR) {
                        r = negative_errno();
                        break;
                }
                if (deadline != 0 && now_usec() >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
        }
        if (timeout_usec != UINT64_MAX) {
                struct itimerval off = {};

                (void) setitimer(ITIMER_REAL, &off, NULL);
                (void) sigaction(SIGALRM, &old, NULL);
        }
        return r; /* closing fd drops the shared lock */
}

/* The pod whose directory is being removed, for warn_ignored(). */
static const char *removing;

static void warn_ignored(const char *message) {
        log_error("pod %s: %s", removing, message);
}

int pod_util_remove(int pods_fd, const uint8_t uuid[16], PodState state, int dir_fd) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int sfd = -1;
        struct stat a, b;
        char u[37];
        int r;

        uuid_format(uuid, u);
        removing = u;
        sfd = fd_open_dir_nofollow(pods_fd, pod_state_dir(state), O_PATH);
        if (sfd < 0) {
                log_error("cannot open pods/%s: %s", pod_state_dir(state), strerror(-sfd));
                return sfd;
        }
        /* The directory we locked must still be the one of that name: if
         * someone else removed it meanwhile, there is nothing left to do. */
        if (fstatat(sfd, u, &a, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                r = negative_errno();
                log_error("pod %s: %s", u, strerror(-r));
                return r;
        }
        if (fstat(dir_fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                return -ENOENT;

        /* Someone else's stage1 (rkt's own flavors) knows what its pods hold
         * (CNI allocations, say): its gc entrypoint first, as rkt's stage0
         * runs it; then what we can find ourselves. */
        {
                _cleanup_(stage1_info_done) Stage1Info info = {};
                char *args[] = { u, NULL };

                /* Only pods that ran: a failed preparation has nothing of the stage1's. */
                if (state == POD_STATE_EXITED_GARBAGE && stage1_info_read(dir_fd, &info) >= 0 &&
                    !stage1_info_is_ours(&info)) {
                        r = stage1_run_entrypoint(dir_fd, &info, STAGE1_GC, args);
                        if (r < 0 && r != -ENOENT)
                                log_errno(r, "pod %s: cannot run the gc entrypoint of its stage1 %s, going on", u,
                                          info.name);
                        else if (r > 0)
                                log_error("pod %s: the gc entrypoint of its stage1 %s failed (exit status %d), "
                                          "going on",
                                          u, info.name, r);
                }
        }
        r = pod_gc_release(sfd, u, dir_fd, uuid, warn_ignored, &err);
        if (r < 0) {
                log_error("pod %s: %s", u, error_format(&err, r));
                return r;
        }
        /* 4. The directory: fd-based, no symlink followed, no mount crossed. */
        r = rm_rf_at(sfd, u);
        if (r < 0 && r != -ENOENT) {
                log_error("pod %s: cannot remove its directory: %s", u, strerror(-r));
                return r;
        }
        return 0;
}

int parse_output_format(const char *s, OutputFormat *ret) {
        if (strcmp(s, "text") == 0)
                *ret = OUTPUT_TEXT;
        else if (strcmp(s, "json") == 0)
                *ret = OUTPUT_JSON;
        else
                return -EINVAL;
        return 0;
}

int pod_util_move_locked(int pods_fd, const uint8_t uuid[16], PodState from, PodState to, int *dir_fd) {
        char u[37];
        int r;

        uuid_format(uuid, u);
        r = pod_move(pods_fd, uuid, from, to);
        if (r == -EBUSY) {
                _cleanup_close_ int sfd = fd_open_dir_nofollow(pods_fd, pod_state_dir(from), O_PATH);
                int fd = -1;

                r = sfd < 0 ? sfd : mount_umount_beneath(sfd, u);
                if (r >= 0)
                        r = pod_open(pods_fd, uuid, from, &fd);
                if (r >= 0) {
                        closep(dir_fd);
                        *dir_fd = fd;
                        r = pod_lock(fd);
                        if (r == -EWOULDBLOCK)
                                return r;
                }
                if (r >= 0)
                        r = pod_move(pods_fd, uuid, from, to);
        }
        if (r < 0 && r != -ENOENT)
                log_error("cannot move pod %s to %s/: %s", u, pod_state_dir(to),
                          strerror(-r));
        return r;
}

/* The pod a reference names, opened; its state and whether it is locked. */
static int open_pod(const GlobalOptions *g, const char *ref, uint8_t ret_uuid[16], PodState *ret_state,
                    int *ret_fd) {
        _cleanup_close_ int data = -1, pods = -1;
        _cleanup_free_ PodEntry *found = NULL;
        char hex[33], u[37];
        size_t n = 0;
        int r;

        if (pod_ref_parse(ref, hex) < 0) {
                log_error(
                          "\"%s\" is not a pod UUID or a prefix of one (at least %d hex digits)",
                          ref, POD_REF_PREFIX_MIN);
                return -EINVAL;
        }
        /* Opened, never created: enter must not leave a data directory behind. */
        data = open(g->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        pods = data >= 0 ? fd_open_dir_nofollow(data, "pods", O_PATH) : -ENOENT;
        r = pods >= 0 ? pod_find(pods, hex, &found, &n) : pods;
        if (r == -ENOENT || (r >= 0 && n == 0)) {
                log_error("no pod %s in %s", ref, g->dir);
                return -ENOENT;
        }
        if (r < 0) {
                log_error("cannot read the pods in %s: %s", g->dir, strerror(-r));
                return r;
        }
        if (n > 1) {
                _cleanup_strv_free_ char **l = NULL;
                _cleanup_free_ char *list = NULL;

                for (size_t i = 0; i < n; i++)
                        if (strv_extend(&l, uuid_format(found[i].uuid, u)) < 0)
                                return -ENOMEM;
                list = strv_join(l, ", ");
                if (!list)
                        return -ENOMEM;
                log_error("\"%s\" is ambiguous; it matches %s", ref, list);
                return -EINVAL;
        }
        r = pod_open_any(pods, found[0].uuid, ret_state, ret_fd);
        if (r < 0) {
                log_error("cannot open pod %s: %s", uuid_format(found[0].uuid, u),
                          strerror(-r));
                return r;
        }
        memcpy(ret_uuid, found[0].uuid, 16);
        return 0;
}

/* The app to enter: --app, or the only one. Logs why not. */
static int pick_app(const Pod *pod, const char *want, const char *ustr, const char **ret) {
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *list = NULL;

        for (size_t i = 0; i < pod->n_apps; i++) {
                if (want && strcmp(pod->apps[i].name, want) == 0) {
                        *ret = pod->apps[i].name;
                        return 0;
                }
                if (strv_extend(&names, pod->apps[i].name) < 0)
                        return -ENOMEM;
        }
        if (!want && pod->n_apps == 1) {
                *ret = pod->apps[0].name;
                return 0;
        }
        list = strv_join(names, ", ");
        if (!list)
                return -ENOMEM;
        if (want)
                log_error("pod %s has no app \"%s\"; its apps: %s", ustr, want, list);
        else
                log_error("pod %s has %zu apps (%s): choose one with --app=NAME", ustr,
                          pod->n_apps, list);
        return -EINVAL;
}

void pod_util_running_app_done(PodUtilRunningApp *ra) {
        ra->pod_fd = safe_close(ra->pod_fd);
        ra->pidfd = safe_close(ra->pidfd);
        ra->app = mfree(ra->app);
        ra->pod = pod_free(ra->pod);
}

int pod_util_find_app(const GlobalOptions *g, const char *ref, const char *want_app, PodUtilRunningApp *ret) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_free_ char *manifest = NULL;
        _cleanup_close_ int nspawn_fd = -1;
        const char *app = NULL;
        pid_t nspawn_pid, init_pid = 0;
        PodState state;
        size_t size;
        int r, locked;

        if (open_pod(g, ref, ret->uuid, &state, &ret->pod_fd) < 0)
                return -EINVAL;
        uuid_format(ret->uuid, ret->ustr);
        locked = pod_is_locked(ret->pod_fd);
        if (state != POD_STATE_RUN || locked <= 0) {
                log_error("pod %s is not running (%s)", ret->ustr,
                          locked < 0 ? "state unknown" : pod_status_to_string(pod_status_of(state, locked > 0)));
                return -ESRCH;
        }
        r = fd_read_file_in_root(ret->pod_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size);
        if (r >= 0)
                r = manifest_parse_pod(manifest, size, &ret->pod, &err);
        if (r < 0) {
                log_error("pod %s: cannot read its manifest: %s", ret->ustr, error_format(&err, r));
                return r;
        }
        if ((r = pick_app(ret->pod, want_app, ret->ustr, &app)) < 0)
                return r;
        ret->app = strdup(app);
        if (!ret->app)
                return -ENOMEM;
        /* The app's main process, found from the pod's init, the only child
         * of the nspawn the ppid file names. */
        r = pod_pin_nspawn(ret->pod_fd, ret->uuid, &nspawn_fd, &nspawn_pid);
        if (r == -EPERM) {
                log_error("pod %s: the pid in its ppid file is not in the pod's cgroups; not entering it", ret->ustr);
                return r;
        }
        if (r >= 0)
                r = pod_init_pid(nspawn_pid, &init_pid);
        if (r >= 0)
                r = pod_app_main_process(init_pid, app, &ret->pidfd, &ret->pid);
        if (r < 0) {
                if (IN_SET(r, -ESRCH, -EAGAIN))
                        log_error("app %s of pod %s is not running (no main process found)", app, ret->ustr);
                else
                        log_errno(r, "cannot find the process of app %s of pod %s", app, ret->ustr);
                return r;
        }
        ret->init_pid = init_pid;
        return 0;
}
