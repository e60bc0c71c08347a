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
#include "pod-util.h"
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
        _cleanup_(pod_util_running_app_done) PodUtilRunningApp ra = POD_UTIL_RUNNING_APP_INIT;
        const char *want_app = NULL, *tty = "auto";
        int c;

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

        if (pod_util_find_app(g, argv[optind], want_app, &ra) < 0)
                return EXIT_INTERNAL;
        (void) exec_helper(ra.pidfd, ra.app, tty, optind + 1 < argc ? argv + optind + 1 : default_cmd);
        return EXIT_INTERNAL;
}
