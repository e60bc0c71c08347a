/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * stop: the stop entrypoint of the host-flavor stage1 (docs/stage1.md,
 * "stop"). A stage0 runs it with the pod directory as working directory:
 * `stop [--force] UUID`. The same stop as `nspawn-pod stop` (lib/pod-stop.h):
 * in order, or with --force SIGKILL to everything in the pod's cgroups.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exit-status.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "parse-util.h"
#include "pod-stop.h"
#include "pod.h"

static const char usage[] =
        "Usage: stop [--force] UUID\n"
        "\n"
        "The stop entrypoint of nspawn-pod's host-flavor stage1 (docs/stage1.md), run\n"
        "with the pod directory as working directory. Stops the pod in order: its apps\n"
        "are stopped and their statuses recorded. With --force, kills it at once.\n"
        "\n"
        "Exit status: 0 signalled, 2 wrong command line, 254 the pod cannot be stopped.\n";

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "force", optional_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int fd = -1;
        bool force = false;
        uint8_t uuid[16];
        int c, r;

        log_set_program("stop");
        while ((c = getopt_long_only(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        r = parse_go_bool(optarg);
                        if (r < 0) {
                                log_error("--force=%s: not a boolean", optarg);
                                return EXIT_USAGE;
                        }
                        force = r;
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (argc - optind != 1 || uuid_parse(argv[optind], uuid) < 0) {
                log_error("expected the pod's UUID; see --help");
                return EXIT_USAGE;
        }
        r = pod_open_cwd(uuid, NULL, &fd, NULL, &err);
        if (r < 0) {
                log_error("%s", error_format(&err, r));
                return EXIT_INTERNAL;
        }
        r = pod_stop(fd, uuid, force, &err);
        if (r < 0) {
                log_error("cannot stop the pod: %s", error_format(&err, r));
                return EXIT_INTERNAL;
        }
        return EXIT_OK;
}
