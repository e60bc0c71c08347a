/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter: run a command inside a running app, as the app runs (docs/enter.md).
 *
 * This verb finds what to enter: the pod (a UUID or a prefix of one), checks
 * that it is running (its directory in pods/run/ is locked), picks the app,
 * and finds the app's main process from the host, in the app's service cgroup
 * below the pod's own cgroup, checked through a pidfd to be a child of the
 * pod's init whose root is the app's root. It then executes the enter helper
 * (libexec/enter) from a sealed in-memory copy with that pidfd; the helper
 * does the joining. Everything this verb refuses exits 254.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup-attach.h"
#include "fd-util.h"
#include "manifest.h"
#include "names.h"
#include "pod.h"
#include "proc-state.h"
#include "strv.h"
#include "verbs.h"

#define EXIT_ENTER 254 /* every failure of enter itself (docs/enter.md) */

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

extern char **environ;

static const char enter_usage[] =
        "Usage: nspawn-pod [--dir=DIR] enter [OPTIONS] UUID [COMMAND [ARG...]]\n"
        "\n"
        "Run COMMAND (default /bin/sh) inside an app of a running pod, exactly as the\n"
        "app runs: its user, groups, capabilities, no_new_privs, seccomp filters,\n"
        "resource limits, cgroups, namespaces (its own mount namespace too), root and\n"
        "working directory, and its environment with the caller's TERM. COMMAND is\n"
        "looked up in the app's PATH inside the app. UUID may be a unique prefix.\n"
        "\n"
        "Options:\n"
        "  --app=NAME    the app to enter; needed when the pod has several\n"
        "  -t, --tty     give the command a terminal (default: when stdin and\n"
        "                stdout are terminals)\n"
        "  -T, --no-tty  relay stdin/stdout/stderr through pipes\n"
        "  -h, --help    show this help\n"
        "\n"
        "Exit status: the command's; if a signal ended it, enter ends by the same\n"
        "signal. 126: the command cannot be executed, 127: not found, 254: enter\n"
        "itself failed (no such pod or app, pod not running, …; nothing was run).\n";

/* The pod a reference names, opened; its state and whether it is locked. */
static int open_pod(const GlobalOptions *g, const char *ref, uint8_t ret_uuid[16], PodState *ret_state,
                    int *ret_fd) {
        _cleanup_close_ int data = -1, pods = -1;
        _cleanup_free_ PodEntry *found = NULL;
        char hex[33], u[37];
        size_t n = 0;
        int r;

        if (pod_ref_parse(ref, hex) < 0) {
                fprintf(stderr,
                        "nspawn-pod enter: \"%s\" is not a pod UUID or a prefix of one (at least %d hex digits)\n",
                        ref, POD_REF_PREFIX_MIN);
                return -EINVAL;
        }
        /* Opened, never created: enter must not leave a data directory behind. */
        data = open(g->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        pods = data >= 0 ? fd_open_dir_nofollow(data, "pods", O_PATH) : -ENOENT;
        r = pods >= 0 ? pod_find(pods, hex, &found, &n) : pods;
        if (r == -ENOENT || (r >= 0 && n == 0)) {
                fprintf(stderr, "nspawn-pod enter: no pod %s in %s\n", ref, g->dir);
                return -ENOENT;
        }
        if (r < 0) {
                fprintf(stderr, "nspawn-pod enter: cannot read the pods in %s: %s\n", g->dir, strerror(-r));
                return r;
        }
        if (n > 1) {
                fprintf(stderr, "nspawn-pod enter: \"%s\" is ambiguous; it matches", ref);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "%s %s", i ? "," : "", uuid_format(found[i].uuid, u));
                fputc('\n', stderr);
                return -EINVAL;
        }
        r = pod_open_any(pods, found[0].uuid, ret_state, ret_fd);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod enter: cannot open pod %s: %s\n", uuid_format(found[0].uuid, u),
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
                fprintf(stderr, "nspawn-pod enter: pod %s has no app \"%s\"; its apps: %s\n", ustr, want, list);
        else
                fprintf(stderr, "nspawn-pod enter: pod %s has %zu apps (%s): choose one with --app=NAME\n", ustr,
                        pod->n_apps, list);
        return -EINVAL;
}

typedef struct Candidate {
        int pidfd;
        pid_t pid;
        uint64_t start;
} Candidate;

/*
 * Is `pid` (listed in the app's service cgroup) the app's main process? It
 * must be a child of the pod's init (PID 1 of its PID namespace, itself a
 * child of the pod's nspawn): processes the app forked are the app's
 * children, and commands run by enter are children of enter's joiner, which
 * is outside the pod. Its root must be the app's root directory,
 * /opt/stage2/<app>/rootfs of the pod's init. Checked
 * after a pidfd is opened and confirmed alive after: all of it is about the
 * pidfd's process, not whatever holds the pid later.
 */
static int check_candidate(pid_t pid, pid_t nspawn_pid, const char *root_path, Candidate *ret) {
        _cleanup_close_ int pidfd = -1, proc = -1, parent = -1, init_root = -1, app_root = -1;
        ProcStatus s = {}, ps = {};
        dev_t d1, d2;
        ino_t i1, i2;
        struct stat st, app_st;
        char path[64];
        uint64_t start;
        int r;

        pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return negative_errno();
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return negative_errno();
        r = proc_status_read(proc, &s);
        if (r < 0)
                return r;
        (void) snprintf(path, sizeof(path), "/proc/%d", (int) s.ppid);
        proc_status_done(&s);
        parent = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return negative_errno();
        r = proc_status_read(parent, &ps);
        if (r < 0)
                return r;
        proc_status_done(&ps);
        if (ps.ns_depth < 2 || ps.ns_pid != 1 || ps.ppid != nspawn_pid)
                return -ESRCH; /* not a child of the pod's init */
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
        if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                return negative_errno();
        *ret = (Candidate){ .pidfd = TAKE_FD(pidfd), .pid = pid, .start = start };
        return 0;
}

/* The pids in one cgroup.procs, checked; the earliest started wins (an
 * orphan of the app reparented to the pod's init came later). */
static int scan_cgroup(int dir, pid_t nspawn_pid, const char *root_path, Candidate *best) {
        _cleanup_free_ char *text = NULL;
        char *save = NULL;
        int r;

        r = proc_read_file(dir, "cgroup.procs", 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        for (char *w = strtok_r(text, "\n", &save); w; w = strtok_r(NULL, "\n", &save)) {
                Candidate c;
                unsigned long v;
                char *e;

                errno = 0;
                v = strtoul(w, &e, 10);
                if (errno != 0 || *e != 0 || v == 0 || v > INT32_MAX)
                        continue;
                if (check_candidate((pid_t) v, nspawn_pid, root_path, &c) < 0)
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
static int find_main_process(int pod_fd, const uint8_t uuid[16], const char *app, Candidate *ret) {
        static const char *const hierarchies[] = { "name=systemd", "" };
        static const char *const middles[] = { "/payload/system.slice/", "/system.slice/" };
        _cleanup_free_ char *sub = NULL, *root_path = NULL;
        Candidate best = { .pidfd = -1 };
        pid_t nspawn_pid;
        int r;

        if (asprintf(&root_path, "opt/stage2/%s/rootfs", app) < 0)
                return -ENOMEM;
        r = pod_read_pid(pod_fd, &nspawn_pid);
        if (r < 0)
                return r;
        r = pod_read_subcgroup(pod_fd, uuid, &sub);
        if (r < 0)
                return r;
        for (size_t h = 0; h < ELEMENTSOF(hierarchies) && best.pidfd < 0; h++) {
                _cleanup_close_ int hfd = -1;

                if (cgroup_hierarchy_open(hierarchies[h], &hfd) < 0)
                        continue;
                for (size_t m = 0; m < ELEMENTSOF(middles) && best.pidfd < 0; m++) {
                        _cleanup_free_ char *path = NULL;
                        _cleanup_close_ int dir = -1;

                        if (asprintf(&path, "%s%s%s.service", sub, middles[m], app) < 0)
                                return -ENOMEM;
                        dir = cgroup_path_open(hfd, path, O_PATH | O_DIRECTORY);
                        if (dir < 0)
                                continue;
                        (void) scan_cgroup(dir, nspawn_pid, root_path, &best);
                }
        }
        if (best.pidfd < 0)
                return -ESRCH;
        *ret = best;
        return 0;
}

/* The helper, copied into a sealed memfd and executed from there: while it
 * is in the pod, its /proc/<pid>/exe is that copy, which nobody can write,
 * not the host's file (runc CVE-2019-5736). */
static int exec_helper(int pidfd, const char *app, const char *tty, char **cmd) {
        _cleanup_free_ char *path = NULL, *pidfd_arg = NULL, *app_arg = NULL, *tty_arg = NULL;
        _cleanup_close_ int src = -1, mfd = -1;
        _cleanup_free_ char **argv = NULL;
        char buf[64 * 1024];
        struct stat st;
        size_t n = 0, nc = strv_length(cmd);
        int r;

        if (asprintf(&path, "%s/enter", libexec_dir()) < 0)
                return -ENOMEM;
        src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0 || fstat(src, &st) < 0) {
                r = negative_errno();
                fprintf(stderr, "nspawn-pod enter: cannot open the helper %s: %s\n", path, strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                fprintf(stderr, "nspawn-pod enter: the helper %s is not a regular file\n", path);
                return -EBADF;
        }
        mfd = memfd_create("nspawn-pod-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (mfd < 0 && errno == EINVAL) /* kernels before 6.3 know no MFD_EXEC */
                mfd = memfd_create("nspawn-pod-enter", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (mfd < 0) {
                r = negative_errno();
                fprintf(stderr, "nspawn-pod enter: cannot create a memfd: %s\n", strerror(-r));
                return r;
        }
        for (;;) {
                ssize_t k = read(src, buf, sizeof(buf));

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
        if (r < 0) {
                fprintf(stderr, "nspawn-pod enter: cannot copy the helper %s: %s\n", path, strerror(-r));
                return r;
        }
        /* The pidfd goes to the helper; every other descriptor of ours has
         * O_CLOEXEC, and the helper closes whatever else it inherits. */
        if (fcntl(pidfd, F_SETFD, 0) < 0 || asprintf(&pidfd_arg, "--pidfd=%d", pidfd) < 0 ||
            asprintf(&app_arg, "--app=%s", app) < 0 || asprintf(&tty_arg, "--tty=%s", tty) < 0)
                return -ENOMEM;
        argv = calloc(nc + 6, sizeof(char *));
        if (!argv)
                return -ENOMEM;
        argv[n++] = (char *) "nspawn-pod-enter";
        argv[n++] = pidfd_arg;
        argv[n++] = app_arg;
        argv[n++] = tty_arg;
        argv[n++] = (char *) "--";
        for (size_t i = 0; i < nc; i++)
                argv[n++] = cmd[i];
        fflush(NULL);
        syscall(SYS_execveat, mfd, "", argv, environ, AT_EMPTY_PATH);
        r = negative_errno();
        fprintf(stderr, "nspawn-pod enter: cannot execute the helper %s: %s\n", path, strerror(-r));
        return r;
}

int verb_enter(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "app", required_argument, NULL, 'a' },
                { "tty", no_argument, NULL, 't' },
                { "no-tty", no_argument, NULL, 'T' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        static char *default_cmd[] = { (char *) "/bin/sh", NULL };
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_(pod_freep) Pod *pod = NULL;
        _cleanup_free_ char *manifest = NULL;
        _cleanup_close_ int pod_fd = -1;
        const char *want_app = NULL, *tty = "auto", *app = NULL;
        Candidate main_proc = { .pidfd = -1 };
        PodState state;
        uint8_t uuid[16];
        char ustr[37];
        size_t size;
        int c, r, locked;

        /* "+": COMMAND's own options are not ours. */
        while ((c = getopt_long(argc, argv, "+htT", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        want_app = optarg;
                        break;
                case 't':
                        tty = "yes";
                        break;
                case 'T':
                        tty = "no";
                        break;
                case 'h':
                        fputs(enter_usage, stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_ENTER;
                default:
                        abort();
                }
        if (optind >= argc) {
                fprintf(stderr, "nspawn-pod enter: which pod? See 'nspawn-pod enter --help'\n");
                return EXIT_ENTER;
        }

        if (open_pod(g, argv[optind], uuid, &state, &pod_fd) < 0)
                return EXIT_ENTER;
        uuid_format(uuid, ustr);
        locked = pod_is_locked(pod_fd);
        if (state != POD_STATE_RUN || locked <= 0) {
                fprintf(stderr, "nspawn-pod enter: pod %s is not running (%s)\n", ustr,
                        locked < 0 ? "state unknown" : pod_status_to_string(pod_status_of(state, locked > 0)));
                return EXIT_ENTER;
        }
        r = fd_read_file_in_root(pod_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size);
        if (r >= 0)
                r = manifest_parse_pod(manifest, size, &pod, &err);
        if (r < 0) {
                fprintf(stderr, "nspawn-pod enter: pod %s: cannot read its manifest: %s\n", ustr,
                        error_format(&err, r));
                return EXIT_ENTER;
        }
        if (pick_app(pod, want_app, ustr, &app) < 0)
                return EXIT_ENTER;
        r = find_main_process(pod_fd, uuid, app, &main_proc);
        if (r < 0) {
                if (r == -ESRCH)
                        fprintf(stderr, "nspawn-pod enter: app %s of pod %s is not running (no main process found)\n",
                                app, ustr);
                else
                        fprintf(stderr, "nspawn-pod enter: cannot find the process of app %s of pod %s: %s\n", app,
                                ustr, strerror(-r));
                return EXIT_ENTER;
        }
        (void) exec_helper(main_proc.pidfd, app, tty, optind + 1 < argc ? argv + optind + 1 : default_cmd);
        closep(&main_proc.pidfd);
        return EXIT_ENTER;
}
