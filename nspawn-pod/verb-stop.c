/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stop: stops running pods, in order or with --force (lib/pod-stop.h,
 * docs/lifecycle.md), and with --wait waits until they no longer run.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "names.h"
#include "pod-stop.h"
#include "pod-util.h"
#include "stage1.h"
#include "proc-state.h"

static void stop_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] stop [OPTIONS] UUID...\n"
              "\n"
              "Stop running pods. By default in order: SIGTERM to the pod's systemd-nspawn,\n"
              "which shuts the pod down; every app is stopped and its status recorded, and\n"
              "the pod's run exits 0 (unless an app had failed before). Each UUID may be a\n"
              "unique prefix (at least 4 hex digits). Prints the UUID of each pod signalled.\n"
              "\n"
              "  --force            kill the pod at once: SIGKILL to every process in its cgroups\n"
              "  --wait[=TIMEOUT]   then wait until the pods no longer run; TIMEOUT like 30s,\n"
              "                     10m (default: no limit)\n"
              "  -h, --help         show this help\n"
              "\n"
              "Without --wait, stop returns once the signals are sent: 'nspawn-pod status\n"
              "--wait UUID' waits for a pod to end.\n"
              "\n"
              "Exit status: 0 all signalled (and ended, with --wait); 1 one was not a UUID, no\n"
              "such pod, an ambiguous prefix, or a pod that is not running; 2 usage; 124\n"
              "--wait timed out; 254 internal error, or a pod that cannot be stopped in order\n"
              "(its nspawn is gone: use --force). The others are stopped all the same.\n",
              f);
}

static int stop_one(int pods_fd, const char *ref, bool force, int *ret_fd, uint8_t ret_uuid[16]) {
        _cleanup_(stage1_info_done) Stage1Info info = {};
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int fd = -1;
        PodEntry e;
        PodState state;
        char u[37];
        int r;

        r = pod_util_open(pods_fd, ref, &e, &state, &fd);
        if (r < 0)
                return r;
        uuid_format(e.uuid, u);
        r = pod_is_locked(fd);
        if (r < 0) {
                log_error("pod %s: %s", u, strerror(-r));
                return -EIO;
        }
        if (pod_status_of(state, r > 0) != POD_STATUS_RUNNING) {
                log_error("pod %s is not running (it is %s)", u,
                          pod_status_to_string(pod_status_of(state, r > 0)));
                return -EBUSY;
        }
        r = stage1_info_read(fd, &info);
        if (r >= 0 && !stage1_info_is_ours(&info)) {
                /* Someone else's stage1 (rkt's own flavors): its own stop
                 * entrypoint, as rkt's stage0 runs it. */
                char *args[] = { force ? (char *) "--force" : u, force ? u : NULL, NULL };

                r = stage1_run_entrypoint(fd, &info, STAGE1_STOP, args);
                if (r != 0) {
                        if (r == -ENOENT)
                                log_error("pod %s: its stage1 %s has no stop entrypoint", u, info.name);
                        else if (r < 0)
                                log_errno(r, "pod %s: cannot run the stop entrypoint of its stage1 %s", u, info.name);
                        else
                                log_error("pod %s: the stop entrypoint of its stage1 %s failed (exit status %d)", u,
                                          info.name, r);
                        return -EIO;
                }
        } else if ((r = pod_stop(fd, e.uuid, force, &err)) < 0) {
                log_error("pod %s: %s", u, error_format(&err, r));
                return -EIO;
        }
        printf("%s\n", u);
        (void) fflush(stdout);
        *ret_fd = TAKE_FD(fd);
        memcpy(ret_uuid, e.uuid, 16);
        return 0;
}

int verb_stop(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "wait", optional_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_close_ int pods = -1;
        uint64_t timeout = UINT64_MAX, start;
        bool force = false, wait = false;
        int c, ret = EXIT_OK, *fds = NULL;
        uint8_t (*uuids)[16] = NULL;
        size_t n = 0;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case 'w':
                        wait = true;
                        if (optarg && parse_duration(optarg, &timeout) < 0) {
                                log_error("--wait: \"%s\" is not a duration (30s, 10m, …)",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        stop_usage(stdout);
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
        fds = calloc((size_t) (argc - optind), sizeof(int));
        uuids = calloc((size_t) (argc - optind), sizeof(*uuids));
        if (!fds || !uuids) {
                free(fds);
                free(uuids);
                return EXIT_INTERNAL;
        }
        start = now_usec();
        for (int i = optind; i < argc; i++) {
                int k = pod_util_exit_code(stop_one(pods, argv[i], force, &fds[n], uuids[n]));

                if (k == EXIT_OK)
                        n++;
                /* The worst: internal errors over bad input. */
                if (k == EXIT_INTERNAL || (k == EXIT_INVALID && ret == EXIT_OK))
                        ret = k;
        }
        for (size_t i = 0; i < n; i++) {
                if (wait) {
                        uint64_t spent = now_usec() - start;
                        uint64_t left = timeout == UINT64_MAX ? UINT64_MAX : timeout > spent ? timeout - spent : 0;
                        char u[37];
                        int r = pod_util_wait_unlocked(fds[i], left);

                        uuid_format(uuids[i], u);
                        if (r == -ETIMEDOUT) {
                                log_error("pod %s still runs after the --wait time", u);
                                if (ret == EXIT_OK)
                                        ret = EXIT_TIMEOUT;
                        } else if (r < 0) {
                                log_error("cannot wait for pod %s: %s", u, strerror(-r));
                                ret = EXIT_INTERNAL;
                        }
                }
                close(fds[i]);
        }
        free(fds);
        free(uuids);
        return ret;
}
