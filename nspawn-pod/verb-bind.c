/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bind, unbind: runtime bind mounts into a running app (docs/volumes.md,
 * "Runtime mounts"), with machinectl bind's syntax; the work is
 * lib/pod-bind's. Exit status: 0 done, 1 refused (bad paths, nothing
 * there), 2 usage, 254 our own failure or a pod/app that is not running.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "exit-status.h"
#include "log.h"
#include "names.h"
#include "pod-bind.h"
#include "pod-util.h"
#include "verbs.h"

static const char bind_usage[] =
        "Usage: nspawn-pod [--dir=DIR] bind [--read-only] [--mkdir] [--app=NAME] UUID SOURCE [DEST]\n"
        "       nspawn-pod [--dir=DIR] unbind [--app=NAME] UUID DEST\n"
        "\n"
        "bind: mount the host's SOURCE (a directory, a file or a device node) at DEST\n"
        "(default: SOURCE) inside a running app, at once, in the app's own mount\n"
        "namespace. DEST is resolved inside the app's root: symlinks in it cannot\n"
        "lead out. The bind lasts until it is unbound or the app stops; 'status'\n"
        "lists it. unbind: unmount DEST in the app.\n"
        "\n"
        "  --app=NAME    the app (required in a pod of several apps)\n"
        "  --read-only   the bind is read-only (never writable, not for an instant)\n"
        "  --mkdir       create DEST (and its parents) if missing\n"
        "  -h, --help    show this help\n"
        "\n"
        "UUID may be a unique prefix. Exit status: 0 done, 1 refused (the message\n"
        "says why), 2 usage error, 254 the pod or app is not running, or our own failure.\n";

/* Refusals are 1; a pod or app that went away, and our own failures, 254. */
static int bind_exit(int r) {
        return IN_SET(r, -ENOENT, -ENOTDIR, -EISDIR, -EBUSY, -EINVAL, -ELOOP, -ENAMETOOLONG, -EEXIST, -EBADMSG,
                      -EOPNOTSUPP, -EPERM, -E2BIG)
                       ? EXIT_INVALID
                       : EXIT_INTERNAL;
}

static int bind_or_unbind(int argc, char *argv[], const GlobalOptions *g, bool bind) {
        static const struct option options[] = {
                { "app", required_argument, NULL, 'a' },
                { "read-only", no_argument, NULL, 'r' },
                { "mkdir", no_argument, NULL, 'm' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(pod_util_running_app_done) PodUtilRunningApp ra = POD_UTIL_RUNNING_APP_INIT;
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_free_ char *dest = NULL;
        const char *want_app = NULL;
        PodBindFlags flags = 0;
        int c, r, nargs;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        want_app = optarg;
                        break;
                case 'r':
                case 'm':
                        if (!bind) {
                                log_error("unbind has no --%s", c == 'r' ? "read-only" : "mkdir");
                                return EXIT_USAGE;
                        }
                        flags |= c == 'r' ? POD_BIND_READ_ONLY : POD_BIND_MKDIR;
                        break;
                case 'h':
                        fputs(bind_usage, stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        nargs = argc - optind;
        if (bind ? (nargs < 2 || nargs > 3) : nargs != 2) {
                log_error("expected %s; see --help", bind ? "UUID SOURCE [DEST]" : "UUID DEST");
                return EXIT_USAGE;
        }
        if (!path_is_absolute(argv[optind + 1]) || (bind && nargs == 3 && !path_is_absolute(argv[optind + 2]))) {
                log_error("SOURCE and DEST must be absolute paths");
                return EXIT_USAGE;
        }
        if (pod_util_find_app(g, argv[optind], want_app, &ra) < 0)
                return EXIT_INTERNAL;
        PodBindTarget t = {
                .pod_fd = ra.pod_fd, .init_pid = ra.init_pid, .pidfd = ra.pidfd, .pid = ra.pid, .app = ra.app,
        };
        if (bind) {
                const char *source = argv[optind + 1], *to = nargs == 3 ? argv[optind + 2] : source;

                r = pod_bind(&t, source, to, flags, &dest, &err);
                if (r < 0) {
                        log_error("pod %s: %s", ra.ustr, error_format(&err, r));
                        return bind_exit(r);
                }
        } else {
                r = pod_unbind(&t, argv[optind + 1], &dest, &err);
                if (r < 0) {
                        log_error("pod %s: %s", ra.ustr, error_format(&err, r));
                        return bind_exit(r);
                }
        }
        return EXIT_OK;
}

int verb_bind(int argc, char *argv[], const GlobalOptions *g) {
        return bind_or_unbind(argc, argv, g, true);
}

int verb_unbind(int argc, char *argv[], const GlobalOptions *g) {
        return bind_or_unbind(argc, argv, g, false);
}
