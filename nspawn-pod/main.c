/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "verbs.h"

#ifndef NSPAWN_POD_VERSION
#define NSPAWN_POD_VERSION "0.1"
#endif

typedef struct Verb {
        const char *name;
        int (*run)(int argc, char *argv[], const GlobalOptions *g);
        const char *summary;
} Verb;

static const Verb verbs[] = {
        { "render", verb_render, "show or write what a pod manifest becomes: units and nspawn argv" },
        { "validate", verb_validate, "check a pod or image manifest" },
        { "prepare", verb_prepare, "prepare a pod from images; print its UUID" },
        { "run", verb_run, "prepare and run a pod; exit with its exit code" },
        { "run-prepared", verb_run_prepared, "run a prepared pod" },
        { "status", verb_status, "show a pod's state and its apps' exit statuses" },
        { "list", verb_list, "list pods" },
        { "cat-manifest", verb_cat_manifest, "print a pod's manifest" },
        { "enter", verb_enter, "run a command inside a running app, exactly as the app runs" },
        { "bind", verb_bind, "bind a host directory, file or device into a running app" },
        { "unbind", verb_unbind, "remove a bind from a running app" },
        { "logs", verb_logs, "show what a pod's apps wrote, from its journal; follow it" },
        { "stop", verb_stop, "stop running pods" },
        { "gc", verb_gc, "remove exited pods and everything they hold" },
        { "rm", verb_rm, "remove one pod" },
};

static void usage(FILE *f) {
        fprintf(f,
                "Usage: nspawn-pod [--dir=DIR] [--debug] VERB [OPTIONS...] [ARGS...]\n"
                "\n"
                "Run appc pods with systemd-nspawn.\n"
                "\n"
                "Global options (before the verb):\n"
                "  --dir=DIR     data directory (default /var/lib/nspawn-pod)\n"
                "  --debug       keep systemd-nspawn's and systemd's own messages\n"
                "  -h, --help    show this help\n"
                "  --version     show the version\n"
                "\n"
                "Verbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-13s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(f, "\n'nspawn-pod VERB --help' describes each verb. Exit codes: docs/exit-codes.md.\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "dir", required_argument, NULL, 'd' },
                { "debug", no_argument, NULL, 'D' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                {},
        };
        GlobalOptions g = { .dir = "/var/lib/nspawn-pod" };
        int c;

        /* "+": stop at the verb, so each verb parses its own options. */
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'd':
                        g.dir = optarg;
                        break;
                case 'D':
                        g.debug = true;
                        break;
                case 'h':
                        usage(stdout);
                        return EXIT_OK;
                case 'V':
                        printf("nspawn-pod %s\n", NSPAWN_POD_VERSION);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }

        if (optind >= argc) {
                usage(stderr);
                return EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(argv[optind], verbs[i].name) == 0) {
                        char **vargv = argv + optind;
                        int vargc = argc - optind;

                        char program[64];

                        /* Every message of the verb says which one it was. */
                        (void) snprintf(program, sizeof(program), "nspawn-pod %s", verbs[i].name);
                        log_set_program(program);
                        optind = 0; /* re-initialise getopt for the verb */
                        return verbs[i].run(vargc, vargv, &g);
                }
        log_error("unknown verb \"%s\"; see 'nspawn-pod --help'", argv[optind]);
        return EXIT_USAGE;
}
