/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdbool.h>
#include <string.h>

#include "log.h"
#include "error.h"
#include "manifest.h"
#include "verbs.h"

static void validate_usage(FILE *f) {
        fputs("Usage: nspawn-pod validate [--kind=pod|image|auto] FILE...\n"
              "\n"
              "Check appc 0.8.11 pod or image manifests the way nspawn-pod reads them\n"
              "(docs/manifest.md lists where that is stricter than actool). Prints one\n"
              "line per file: 'FILE: ok' on standard output, or 'FILE: <json path>: <what\n"
              "is wrong>' on standard error.\n"
              "\n"
              "  --kind=KIND   what the files are; auto (default) goes by acKind\n"
              "  -h, --help    show this help\n"
              "\n"
              "Exit status: 0 all valid, 1 some invalid, 2 usage, 254 internal error.\n",
              f);
}

typedef enum Kind { KIND_AUTO, KIND_POD, KIND_IMAGE } Kind;

static int validate_one(const char *path, Kind kind) {
        _cleanup_error_ NpError err = NP_ERROR_INIT;
        void *m = NULL;
        int r;

        r = manifest_load_file(path, kind == KIND_IMAGE ? MANIFEST_IMAGE : MANIFEST_POD, &m, &err);
        if (r >= 0)
                kind == KIND_IMAGE ? (void) image_free(m) : (void) pod_free(m);
        /* In auto mode an acKind mismatch means "try the other kind". */
        if (r < 0 && kind == KIND_AUTO && err.path && strcmp(err.path, "$.acKind") == 0) {
                error_done(&err);
                r = manifest_load_file(path, MANIFEST_IMAGE, &m, &err);
                if (r >= 0)
                        image_free(m);
        }
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, error_format(&err, r));
                return manifest_load_exit_code(r);
        }
        printf("%s: ok\n", path);
        return EXIT_OK;
}

int verb_validate(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "kind", required_argument, NULL, 'k' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        Kind kind = KIND_AUTO;
        int c, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'k':
                        if (strcmp(optarg, "pod") == 0)
                                kind = KIND_POD;
                        else if (strcmp(optarg, "image") == 0)
                                kind = KIND_IMAGE;
                        else if (strcmp(optarg, "auto") == 0)
                                kind = KIND_AUTO;
                        else {
                                log_error("--kind must be pod, image or auto");
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        validate_usage(stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (optind >= argc) {
                log_error("expected at least one FILE; see --help");
                return EXIT_USAGE;
        }
        for (int i = optind; i < argc; i++) {
                int r = validate_one(argv[i], kind);

                /* The worst outcome decides the exit status. */
                if (r > ret)
                        ret = r;
        }
        return ret;
}
