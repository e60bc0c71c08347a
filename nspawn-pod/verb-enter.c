/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * enter: run a command inside a running app, as the app runs (docs/enter.md).
 *
 * This verb finds what to enter: the pod (a UUID or a prefix of one), checks
 * that it is running (its directory in pods/run/ is locked), picks the app,
 * and finds the app's main process from the host (lib/pod-enter.h). It then
 * executes the enter helper (libexec/enter) from a sealed in-memory copy
 * with a pidfd of that process; the helper does the joining. Everything
 * this verb refuses exits 254.
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
#include "log.h"
#include "pod-enter.h"
#include "pod-stop.h"
#include "pod.h"
#include "proc-state.h"
#include "strv.h"
#include "verbs.h"


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

/* The helper (libexec/enter), executed from a sealed copy with the app's
 * main process as a pidfd: the helper does the joining. */
static int exec_helper(int pidfd, const char *app, const char *tty, char **cmd) {
        _cleanup_free_ char *path = NULL, *pidfd_arg = NULL, *app_arg = NULL, *tty_arg = NULL;
        _cleanup_free_ char **argv = NULL;
        _cleanup_close_ int src = -1;
        struct stat st;
        size_t n = 0, nc = strv_length(cmd);
        int r;

        if (asprintf(&path, "%s/enter", libexec_dir()) < 0)
                return -ENOMEM;
        src = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (src < 0 || fstat(src, &st) < 0)
                return log_errno(negative_errno(), "cannot open the helper %s", path);
        if (!S_ISREG(st.st_mode)) {
                log_error("the helper %s is not a regular file", path);
                return -EBADF;
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
        r = pod_exec_sealed(src, argv, environ);
        return log_errno(r, "cannot execute the helper %s", path);
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
        struct {
                int pidfd;
                pid_t pid;
        } main_proc = { .pidfd = -1 };
        _cleanup_close_ int nspawn_fd = -1;
        pid_t nspawn_pid, init_pid;
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
                        return EXIT_INTERNAL;
                default:
                        abort();
                }
        if (optind >= argc) {
                log_error("which pod? See 'nspawn-pod enter --help'");
                return EXIT_INTERNAL;
        }

        if (open_pod(g, argv[optind], uuid, &state, &pod_fd) < 0)
                return EXIT_INTERNAL;
        uuid_format(uuid, ustr);
        locked = pod_is_locked(pod_fd);
        if (state != POD_STATE_RUN || locked <= 0) {
                log_error("pod %s is not running (%s)", ustr,
                          locked < 0 ? "state unknown" : pod_status_to_string(pod_status_of(state, locked > 0)));
                return EXIT_INTERNAL;
        }
        r = fd_read_file_in_root(pod_fd, "pod", MANIFEST_SIZE_MAX, &manifest, &size);
        if (r >= 0)
                r = manifest_parse_pod(manifest, size, &pod, &err);
        if (r < 0) {
                log_error("pod %s: cannot read its manifest: %s", ustr,
                          error_format(&err, r));
                return EXIT_INTERNAL;
        }
        if (pick_app(pod, want_app, ustr, &app) < 0)
                return EXIT_INTERNAL;
        /* The app's main process, found from the pod's init, the only child
         * of the nspawn the ppid file names. */
        r = pod_pin_nspawn(pod_fd, uuid, &nspawn_fd, &nspawn_pid);
        if (r == -EPERM) {
                log_error("pod %s: the pid in its ppid file is not in the pod's cgroups; not entering it", ustr);
                return EXIT_INTERNAL;
        }
        if (r >= 0)
                r = pod_init_pid(nspawn_pid, &init_pid);
        if (r >= 0)
                r = pod_app_main_process(init_pid, app, &main_proc.pidfd, &main_proc.pid);
        if (r < 0) {
                if (IN_SET(r, -ESRCH, -EAGAIN))
                        log_error("app %s of pod %s is not running (no main process found)", app, ustr);
                else
                        log_errno(r, "cannot find the process of app %s of pod %s", app, ustr);
                return EXIT_INTERNAL;
        }
        (void) exec_helper(main_proc.pidfd, app, tty, optind + 1 < argc ? argv + optind + 1 : default_cmd);
        closep(&main_proc.pidfd);
        return EXIT_INTERNAL;
}
