/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rm: removes the named pods, as gc does but now and whatever their age:
 * exited, prepared, and those whose preparation failed. A running pod (or
 * one being prepared, started or removed by someone else) is refused.
 * docs/lifecycle.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "pod-util.h"

static void rm_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] rm UUID...\n"
              "\n"
              "Remove pods that are not running: exited, prepared, or whose preparation\n"
              "failed. Each UUID may be a unique prefix (at least 4 hex digits). Prints the\n"
              "UUID of each pod removed.\n"
              "\n"
              "  -h, --help    show this help\n"
              "\n"
              "Exit status: 0 all removed; 1 one was not a UUID, no such pod, an ambiguous\n"
              "prefix, or a pod that is running, being prepared or started, or being removed\n"
              "by someone else; 2 usage; 254 internal error (a pod that could not be removed\n"
              "stays marked for the next gc). The others are removed all the same.\n",
              f);
}

static const char *busy_reason(PodState s) {
        switch (s) {
        case POD_STATE_RUN:
                return "is running; stop it first ('nspawn-pod stop')";
        case POD_STATE_PREPARE:
                return "is being prepared";
        case POD_STATE_PREPARED:
                return "is being started";
        case POD_STATE_EXITED_GARBAGE:
        case POD_STATE_GARBAGE:
                return "is being removed by someone else";
        case _POD_STATE_MAX:
        default:
                return "is in use";
        }
}

static int rm_one(int pods_fd, const char *ref) {
        _cleanup_close_ int fd = -1;
        PodEntry e;
        PodState state, to;
        char u[37];
        int r;

        r = pod_util_open(pods_fd, ref, &e, &state, &fd);
        if (r < 0)
                return r;
        uuid_format(e.uuid, u);
        /* Exclusive, non-blocking: whoever holds it (the pod itself, its
         * preparation, a gc) keeps it. */
        r = pod_lock(fd);
        if (r == -EWOULDBLOCK) {
                log_error("pod %s %s", u, busy_reason(state));
                return -EBUSY;
        }
        if (r < 0) {
                log_error("cannot lock pod %s: %s", u, strerror(-r));
                return r;
        }
        to = state == POD_STATE_RUN ? POD_STATE_EXITED_GARBAGE
             : IN_SET(state, POD_STATE_PREPARE, POD_STATE_PREPARED) ? POD_STATE_GARBAGE
                                                                   : state;
        if (to != state) {
                r = pod_util_move_locked(pods_fd, e.uuid, state, to, &fd);
                if (r == -EWOULDBLOCK) {
                        log_error("pod %s is being removed by someone else", u);
                        return -EBUSY;
                }
                if (r < 0) {
                        if (r == -ENOENT)
                                log_error("pod %s was removed by someone else meanwhile", u);
                        return r == -ENOENT ? r : -EIO;
                }
        }
        r = pod_util_remove(pods_fd, e.uuid, to, fd);
        if (r == -ENOENT) {
                log_error("pod %s was removed by someone else meanwhile", u);
                return r;
        }
        if (r < 0)
                return -EIO; /* said why; not the user's fault: 254 */
        printf("%s\n", u);
        return 0;
}

int verb_rm(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_close_ int pods = -1;
        int c, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        rm_usage(stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (optind >= argc) {
                log_error("expected one or more UUIDs; see --help");
                return EXIT_USAGE;
        }
        if (pod_util_open_pods(g, &pods) < 0)
                return EXIT_INTERNAL;
        for (int i = optind; i < argc; i++) {
                int k = pod_util_exit_code(rm_one(pods, argv[i]));

                /* The worst: internal errors over bad input. */
                if (k == EXIT_INTERNAL || (k == EXIT_INVALID && ret == EXIT_OK))
                        ret = k;
        }
        if (fflush(stdout) != 0)
                ret = EXIT_INTERNAL;
        return ret;
}
