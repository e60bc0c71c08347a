/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * logs: a pod's app output from its journal (lib/journal.h), of every app
 * or some, running or exited, followed with -f until the pod exits.
 * docs/logs.md.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "log.h"
#include "names.h"
#include "pod-util.h"
#include "strbuf.h"
#include "strv.h"

/* How often a follower looks whether the pod still runs, when the journal
 * is quiet. */
#define FOLLOW_POLL_USEC (250ULL * 1000ULL)

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
        interrupted = 1;
}

static void logs_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] logs [OPTIONS] UUID\n"
              "\n"
              "Show what a pod's apps wrote (stdout, stderr, syslog), from the pod's journal,\n"
              "while it runs and after it has exited, until it is removed. UUID may be a\n"
              "unique prefix (at least 4 hex digits).\n"
              "\n"
              "  --app=NAME          only this app (again for more)\n"
              "  --all               also the pod's own systemd and helpers\n"
              "  -f, --follow        keep showing new lines until the pod exits (or on\n"
              "                      SIGINT, SIGTERM, SIGHUP)\n"
              "  -n, --lines=N       only the last N lines\n"
              "  --since=TIME        lines from TIME on; --until=TIME up to TIME: \"2026-12-02\n"
              "                      10:00\", what status prints, @SECONDS, -10m, 1h ago, today\n"
              "  -o, --output=MODE   short (time, app[pid]: line; default), cat (the line\n"
              "                      only) or json (one object per line, every journal field)\n"
              "  -h, --help          show this help\n"
              "\n"
              "Exit status: 0 shown (also when --follow was interrupted); 1 not a UUID, no\n"
              "such pod or app, a prefix matching several pods, or a pod without a journal;\n"
              "2 usage; 254 internal error. docs/logs.md.\n",
              f);
}

/* Writes `b` to stdout: -errno (-EPIPE: the reader went away). */
static int write_out(StrBuf *b) {
        if (b->len > 0 && fwrite(b->data, 1, b->len, stdout) != b->len)
                return errno > 0 ? -errno : -EIO;
        strbuf_truncate(b, 0);
        return 0;
}

/* The units of the apps to show: every app's, or those of --app. */
static int select_units(const PodInfo *info, char **apps, char ***ret) {
        _cleanup_strv_free_ char **units = NULL;
        char u[37];

        STRV_FOREACH(a, apps) {
                bool found = false;

                for (size_t i = 0; i < info->n_apps; i++)
                        found = found || strcmp(info->apps[i].name, *a) == 0;
                if (!found) {
                        _cleanup_strbuf_ StrBuf names = STRBUF_INIT;

                        for (size_t i = 0; i < info->n_apps; i++)
                                strbuf_printf(&names, "%s%s", i > 0 ? ", " : "", info->apps[i].name);
                        log_error("pod %s has no app \"%s\" (its apps: %s)", uuid_format(info->uuid, u), *a,
                                  names.data ? names.data : "none");
                        return -ENOENT;
                }
        }
        for (size_t i = 0; i < info->n_apps; i++)
                if ((!apps || strv_contains(apps, info->apps[i].name)) &&
                    strv_extendf(&units, "%s.service", info->apps[i].name) < 0)
                        return -ENOMEM;
        if (!units && strv_extend(&units, "nspawn-pod-no-app.service") < 0)
                return -ENOMEM; /* a pod without apps: nothing matches */
        *ret = TAKE_PTR(units);
        return 0;
}

int verb_logs(int argc, char *argv[], const GlobalOptions *g) {
        enum { ARG_APP = 0x100, ARG_ALL, ARG_SINCE, ARG_UNTIL };
        static const struct option options[] = {
                { "app", required_argument, NULL, ARG_APP },
                { "all", no_argument, NULL, ARG_ALL },
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "since", required_argument, NULL, ARG_SINCE },
                { "until", required_argument, NULL, ARG_UNTIL },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(journal_reader_freep) JournalReader *reader = NULL;
        _cleanup_(pod_info_freep) PodInfo *info = NULL;
        _cleanup_strv_free_ char **apps = NULL, **units = NULL;
        _cleanup_close_ int pods = -1, fd = -1;
        uint64_t lines = UINT64_MAX, since = 0, until = UINT64_MAX;
        _cleanup_strbuf_ StrBuf line = STRBUF_INIT;
        JournalFormat mode = JOURNAL_FORMAT_SHORT;
        bool follow = false, all = false, last_pass = false;
        PodState state;
        PodEntry e;
        char u[37];
        int c, r;

        while ((c = getopt_long(argc, argv, "hfn:o:", options, NULL)) >= 0)
                switch (c) {
                case ARG_APP:
                        if (!acname_is_valid(optarg)) {
                                log_error("--app=%s: not an app name", optarg);
                                return EXIT_USAGE;
                        }
                        if (strv_extend(&apps, optarg) < 0)
                                return log_errno(-ENOMEM, "cannot parse the options"), EXIT_INTERNAL;
                        break;
                case ARG_ALL:
                        all = true;
                        break;
                case 'f':
                        follow = true;
                        break;
                case 'n': {
                        char *end;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(optarg, &end, 10);
                        /* Digits only: strtoull() takes " -1" too. */
                        if (errno != 0 || end == optarg || *end || optarg[0] < '0' || optarg[0] > '9') {
                                log_error("--lines=%s: not a number of lines", optarg);
                                return EXIT_USAGE;
                        }
                        lines = v;
                        break;
                }
                case ARG_SINCE:
                case ARG_UNTIL:
                        if (parse_timestamp(optarg, c == ARG_SINCE ? &since : &until) < 0) {
                                log_error("--%s=%s: not a time (2026-12-02 10:00, @SECONDS, -10m, today, …)",
                                          c == ARG_SINCE ? "since" : "until", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'o':
                        if (strcmp(optarg, "short") == 0)
                                mode = JOURNAL_FORMAT_SHORT;
                        else if (strcmp(optarg, "cat") == 0)
                                mode = JOURNAL_FORMAT_CAT;
                        else if (strcmp(optarg, "json") == 0)
                                mode = JOURNAL_FORMAT_JSON;
                        else {
                                log_error("--output must be short, cat or json, not \"%s\"", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        logs_usage(stdout);
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
        if (all && apps) {
                log_error("--all and --app exclude each other");
                return EXIT_USAGE;
        }
        if (since > until) {
                log_error("--since is after --until");
                return EXIT_USAGE;
        }

        if (pod_util_open_pods(g, &pods) < 0)
                return EXIT_INTERNAL;
        r = pod_util_open(pods, argv[optind], &e, &state, &fd);
        if (r < 0)
                return pod_util_exit_code(r);
        uuid_format(e.uuid, u);
        r = pod_info_read(fd, e.uuid, state, 0, &info);
        if (r < 0) {
                log_error("cannot read pod %s: %s", u, strerror(-r));
                return EXIT_INTERNAL;
        }
        if (!all && (r = select_units(info, apps, &units)) < 0)
                return r == -ENOENT ? EXIT_INVALID : EXIT_INTERNAL;
        /* A prepared pod has its stage1's empty journal directory, and
         * nothing in it yet. */
        /* Without --app, also what journald could not attribute to a unit
         * (docs/logs.md): it came from a process of the pod all the same. */
        r = IN_SET(state, POD_STATE_PREPARE, POD_STATE_PREPARED) ? -ENOENT
                                                                : journal_reader_open(fd, units, !apps, &reader);
        if (r == -ENOENT) {
                log_error("pod %s has no journal: %s", u,
                          IN_SET(state, POD_STATE_PREPARE, POD_STATE_PREPARED) ? "it has not run yet"
                                                                                : "its stage1 keeps none");
                return EXIT_INVALID;
        }
        if (r >= 0)
                r = journal_reader_seek(reader, since, until, lines);
        if (r < 0) {
                log_errno(r, "cannot read the journal of pod %s", u);
                return EXIT_INTERNAL;
        }
        if (mode == JOURNAL_FORMAT_JSON)
                (void) sd_journal_set_data_threshold(reader->journal, 0);

        /* A closed pipe is an end, not a signal to die of. */
        (void) signal(SIGPIPE, SIG_IGN);
        if (follow) {
                /* SA_RESTART: writes go on; the journal's wait (poll) returns
                 * all the same, and the loop ends cleanly. */
                struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

                (void) sigaction(SIGINT, &sa, NULL);
                (void) sigaction(SIGTERM, &sa, NULL);
                (void) sigaction(SIGHUP, &sa, NULL);
        }
        for (;;) {
                if (interrupted)
                        break;
                r = journal_reader_next(reader);
                if (r > 0) {
                        r = journal_format_entry(reader->journal, mode, &line);
                        if (r >= 0 && line.len >= 64 * 1024)
                                r = write_out(&line);
                        if (r < 0)
                                break;
                        continue;
                }
                if (r >= 0)
                        r = write_out(&line);
                if (r < 0 || !follow || reader->done)
                        break;
                if (fflush(stdout) == EOF) {
                        r = errno > 0 ? -errno : -EIO;
                        break;
                }
                if (last_pass)
                        break;
                /* The pod has ended (nobody holds its lock): what it wrote
                 * last is read once more, then we are done. */
                if (pod_is_locked(fd) <= 0)
                        last_pass = true;
                r = journal_reader_wait(reader, last_pass ? 0 : FOLLOW_POLL_USEC);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = write_out(&line);
        if (fflush(stdout) == EOF && r >= 0)
                r = errno > 0 ? -errno : -EIO;
        /* The reader went away, or --follow was interrupted while writing:
         * not our failure. */
        if (r == -EPIPE || (r < 0 && interrupted))
                return EXIT_OK;
        if (r < 0) {
                log_errno(r, "cannot show the journal of pod %s", u);
                return EXIT_INTERNAL;
        }
        return EXIT_OK;
}
