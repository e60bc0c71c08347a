/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gc: the gc entrypoint of the host-flavor stage1 (docs/stage1.md, "gc"). A
 * stage0 runs it once per pod it removes, with the pod directory as working
 * directory: `gc [--debug] [--local-config DIR] UUID`. It releases whatever
 * the pod holds on the host, as `nspawn-pod gc` does (lib/pod-gc.h); the
 * stage0 then removes the directory.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exit-status.h"
#include "log.h"
#include "macro.h"
#include "names.h"
#include "parse-util.h"
#include "pod-gc.h"
#include "pod.h"

static const char usage[] =
        "Usage: gc [--debug] [--local-config DIR] UUID\n"
        "\n"
        "The gc entrypoint of nspawn-pod's host-flavor stage1 (docs/stage1.md), run with\n"
        "the pod directory as working directory. Kills what is left in the pod's cgroups\n"
        "and removes them, unmounts everything below the pod directory, removes its\n"
        "network namespace, nspawn's leftovers in /run, the host's journal link and its\n"
        "machined registration. The directory itself is the stage0's to remove.\n"
        "\n"
        "Exit status: 0 released (nothing left to release included), 2 wrong command\n"
        "line, 254 something could not be released.\n";

static void warn(const char *message) {
        log_warning("%s", message);
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "debug", optional_argument, NULL, 'd' },
                { "local-config", required_argument, NULL, 'l' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        _cleanup_close_ int fd = -1, parent = -1;
        uint8_t uuid[16];
        char u[37];
        int c, r;

        log_set_program("gc");
        while ((c = getopt_long_only(argc, argv, "+", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        if (parse_go_bool(optarg) < 0) {
                                log_error("--debug=%s: not a boolean", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'l':
                        /* Where CNI configurations are: not needed, each
                         * network's configuration is in its record in the
                         * pod (lib/pod-net.h), which the DEL uses. */
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
        uuid_format(uuid, u);
        r = pod_open_cwd(uuid, NULL, &fd, &parent, &err);
        if (r < 0) {
                log_error("%s", error_format(&err, r));
                return EXIT_INTERNAL;
        }
        r = pod_gc_release(parent, u, fd, uuid, warn, &err);
        if (r < 0) {
                log_error("pod %s: %s", u, error_format(&err, r));
                return EXIT_INTERNAL;
        }
        return EXIT_OK;
}
