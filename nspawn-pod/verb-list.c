/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * list: every pod, one line each (UUID, apps, state, created, started),
 * oldest first; or a JSON array. docs/lifecycle.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "names.h"
#include "pod-util.h"

static void list_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] list [OPTIONS]\n"
              "\n"
              "List every pod, oldest first: UUID, apps, state, creation and start time.\n"
              "\n"
              "  --no-legend        no header line\n"
              "  --format=FORMAT    text (a table, default) or json (an array)\n"
              "  -h, --help         show this help\n"
              "\n"
              "Exit status: 0 listed (also when there are no pods), 2 usage, 254 internal\n"
              "error. States: docs/lifecycle.md.\n",
              f);
}

static int cmp_created(const void *a, const void *b) {
        const PodInfo *x = *(PodInfo *const *) a, *y = *(PodInfo *const *) b;

        if (x->created.tv_sec != y->created.tv_sec)
                return x->created.tv_sec < y->created.tv_sec ? -1 : 1;
        if (x->created.tv_nsec != y->created.tv_nsec)
                return x->created.tv_nsec < y->created.tv_nsec ? -1 : 1;
        return memcmp(x->uuid, y->uuid, 16);
}

static char *apps_joined(const PodInfo *p) {
        size_t len = 1;
        char *s;

        for (size_t i = 0; i < p->n_apps; i++)
                len += strlen(p->apps[i].name) + 1;
        s = calloc(1, len);
        if (!s)
                return NULL;
        for (size_t i = 0; i < p->n_apps; i++) {
                if (i > 0)
                        strcat(s, ",");
                strcat(s, p->apps[i].name);
        }
        return s;
}

static int print_table(PodInfo **pods, size_t n, bool legend) {
        static const char *const head[] = { "UUID", "APPS", "STATE", "CREATED", "STARTED", "NETWORKS" };
        size_t w[6] = {};
        char ***rows = calloc(n + 1, sizeof(char **));
        int r = 0;

        if (!rows)
                return -ENOMEM;
        for (size_t k = 0; k < 6; k++)
                w[k] = legend ? strlen(head[k]) : 0;
        for (size_t i = 0; i < n; i++) {
                char u[37], c[64], s[64];
                char **row = calloc(6, sizeof(char *));

                if (!row) {
                        r = -ENOMEM;
                        break;
                }
                rows[i] = row;
                row[0] = strdup(uuid_format(pods[i]->uuid, u));
                row[1] = apps_joined(pods[i]);
                row[2] = strdup(pod_status_to_string(pods[i]->status));
                row[3] = strdup(pods[i]->created.tv_sec ? time_format(&pods[i]->created, c) : "-");
                row[4] = strdup(pods[i]->started.tv_sec ? time_format(&pods[i]->started, s) : "-");
                /* rkt's column: each network's addresses. */
                row[5] = pod_info_networks_text(pods[i]);
                if (!row[5])
                        row[5] = strdup("-");
                for (size_t k = 0; k < 6; k++) {
                        if (!row[k]) {
                                r = -ENOMEM;
                                break;
                        }
                        if (k == 1 && !*row[k]) {
                                free(row[k]);
                                if (!(row[k] = strdup("-"))) {
                                        r = -ENOMEM;
                                        break;
                                }
                        }
                        if (strlen(row[k]) > w[k])
                                w[k] = strlen(row[k]);
                }
                if (r < 0)
                        break;
        }
        if (r >= 0) {
                if (legend)
                        printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int) w[0], head[0], (int) w[1], head[1],
                               (int) w[2], head[2], (int) w[3], head[3], (int) w[4], head[4], head[5]);
                for (size_t i = 0; i < n; i++)
                        printf("%-*s  %-*s  %-*s  %-*s  %-*s  %s\n", (int) w[0], rows[i][0], (int) w[1], rows[i][1],
                               (int) w[2], rows[i][2], (int) w[3], rows[i][3], (int) w[4], rows[i][4], rows[i][5]);
        }
        for (size_t i = 0; i < n && rows[i]; i++) {
                for (size_t k = 0; k < 6; k++)
                        free(rows[i][k]);
                free(rows[i]);
        }
        free(rows);
        return r;
}

static int print_json(PodInfo **pods, size_t n) {
        json_t *arr = json_array();

        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_object(), *apps = json_array();
                char u[37];

                if (!o || !apps) {
                        json_decref(o);
                        json_decref(apps);
                        json_decref(arr);
                        return -ENOMEM;
                }
                for (size_t k = 0; k < pods[i]->n_apps; k++)
                        json_array_append_new(apps, json_string(pods[i]->apps[k].name));
                json_object_set_new(o, "uuid", json_string(uuid_format(pods[i]->uuid, u)));
                json_object_set_new(o, "apps", apps);
                json_object_set_new(o, "state", json_string(pod_status_to_string(pods[i]->status)));
                json_object_set_new(o, "created", json_time(&pods[i]->created));
                json_object_set_new(o, "started", json_time(&pods[i]->started));
                {
                        _cleanup_free_ char *nets = pod_info_networks_text(pods[i]);

                        json_object_set_new(o, "networks", nets ? json_string(nets) : json_null());
                }
                json_array_append_new(arr, o);
        }
        return json_print(arr);
}

int verb_list(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "no-legend", no_argument, NULL, 'n' },
                { "format", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ PodEntry *entries = NULL;
        _cleanup_close_ int pods = -1;
        OutputFormat format = OUTPUT_TEXT;
        PodInfo **infos = NULL;
        size_t n = 0, k = 0;
        bool legend = true;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'n':
                        legend = false;
                        break;
                case 'f':
                        if (parse_output_format(optarg, &format) < 0) {
                                log_error("--format must be text or json, not \"%s\"", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        list_usage(stdout);
                        return EXIT_OK;
                case '?':
                        return EXIT_USAGE;
                default:
                        abort();
                }
        if (optind != argc) {
                log_error("no arguments expected; see --help");
                return EXIT_USAGE;
        }
        if (pod_util_open_pods(g, &pods) < 0)
                return EXIT_INTERNAL;
        r = pod_list(pods, &entries, &n);
        if (r < 0) {
                log_error("cannot list the pods: %s", strerror(-r));
                return EXIT_INTERNAL;
        }
        infos = calloc(n + 1, sizeof(PodInfo *));
        if (!infos)
                return EXIT_INTERNAL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_close_ int fd = -1;
                PodState state;
                char u[37];

                r = pod_open_any(pods, entries[i].uuid, &state, &fd);
                if (r == -ENOENT)
                        continue; /* removed since: not a pod any more */
                if (r >= 0)
                        r = pod_info_read(fd, entries[i].uuid, state, 0, &infos[k]);
                if (r < 0) {
                        log_error("cannot read pod %s: %s", uuid_format(entries[i].uuid, u),
                                  strerror(-r));
                        ret = EXIT_INTERNAL;
                        continue;
                }
                k++;
        }
        if (k > 0)
                qsort(infos, k, sizeof(PodInfo *), cmp_created);
        r = format == OUTPUT_JSON ? print_json(infos, k) : print_table(infos, k, legend);
        for (size_t i = 0; i < k; i++)
                pod_info_free(infos[i]);
        free(infos);
        if (r < 0 || fflush(stdout) != 0) {
                log_error("cannot write the list: %s", strerror(r < 0 ? -r : errno));
                return EXIT_INTERNAL;
        }
        return ret;
}
