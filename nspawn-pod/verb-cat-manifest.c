/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cat-manifest: prints a pod's manifest, the pod directory's "pod" file, as it is. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "pod-util.h"

static void cat_manifest_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] cat-manifest UUID\n"
              "\n"
              "Print a pod's manifest (appc PodManifest JSON) as nspawn-pod wrote it. UUID\n"
              "may be a unique prefix (at least 4 hex digits).\n"
              "\n"
              "  -h, --help    show this help\n"
              "\n"
              "Exit status: 0 printed; 1 not a UUID, no such pod, ambiguous prefix, or the pod\n"
              "has no manifest (its preparation failed early); 2 usage; 254 internal error.\n",
              f);
}

int verb_cat_manifest(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_close_ int pods = -1, fd = -1;
        _cleanup_free_ char *data = NULL;
        PodEntry e;
        PodState state;
        size_t size;
        char u[37];
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        cat_manifest_usage(stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (optind + 1 != argc) {
                log_error("expected exactly one UUID; see --help");
                return EXIT_USAGE;
        }
        if (pod_util_open_pods(g, &pods) < 0)
                return EXIT_INTERNAL;
        r = pod_util_resolve(pods, argv[optind], &e);
        if (r < 0)
                return pod_util_exit_code(r);
        uuid_format(e.uuid, u);
        r = pod_open_any(pods, e.uuid, &state, &fd);
        if (r >= 0)
                r = pod_read_manifest(fd, &data, &size);
        if (r == -ENOENT) {
                log_error("pod %s has no manifest%s", u,
                          fd >= 0 ? " (its preparation ended before writing it)" : " (it was removed meanwhile)");
                return EXIT_INVALID;
        }
        if (r < 0) {
                log_error("cannot read the manifest of pod %s: %s", u, strerror(-r));
                return EXIT_INTERNAL;
        }
        if (fwrite(data, 1, size, stdout) != size || fflush(stdout) != 0) {
                log_error("cannot write the manifest: %m");
                return EXIT_INTERNAL;
        }
        return EXIT_OK;
}
