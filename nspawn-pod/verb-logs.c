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

typedef enum LogsOutput {
        LOGS_SHORT,
        LOGS_CAT,
        LOGS_JSON,
} LogsOutput;

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

/* A field's value ("FIELD=value" → "value") of the current entry, or NULL. */
static const char *field(sd_journal *j, const char *name, size_t *ret_len) {
        const void *d;
        size_t l, n = strlen(name);

        if (sd_journal_get_data(j, name, &d, &l) < 0 || l <= n)
                return NULL;
        *ret_len = l - n - 1;
        return (const char *) d + n + 1;
}

/* Text a terminal shows as it is: valid UTF-8 without control characters
 * but tab and newline (an app's escape sequences are not passed to the
 * reader's terminal). */
static bool printable(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                        return false;
        }
        return utf8_is_valid(s, n);
}

static int print_short(sd_journal *j) {
        const char *msg, *ident, *pid;
        size_t msg_len = 0, ident_len = 0, pid_len = 0;
        struct timespec ts;
        uint64_t t;
        char when[64];
        int prefix;

        if (sd_journal_get_realtime_usec(j, &t) < 0)
                t = 0;
        ts.tv_sec = (time_t) (t / 1000000ULL);
        ts.tv_nsec = (long) (t % 1000000ULL) * 1000L;
        msg = field(j, "MESSAGE", &msg_len);
        ident = field(j, "SYSLOG_IDENTIFIER", &ident_len);
        if (!ident)
                ident = field(j, "_COMM", &ident_len);
        pid = field(j, "_PID", &pid_len);
        if (!pid)
                pid = field(j, "SYSLOG_PID", &pid_len);
        if (ident && !printable(ident, ident_len))
                ident = NULL;
        if (pid && !printable(pid, pid_len))
                pid = NULL;
        prefix = printf("%s %.*s%s%.*s%s: ", format_time(&ts, when), ident ? (int) ident_len : 7,
                        ident ? ident : "unknown", pid ? "[" : "", pid ? (int) pid_len : 0, pid ? pid : "",
                        pid ? "]" : "");
        if (!msg)
                return puts("") < 0 ? -EIO : 0;
        if (!printable(msg, msg_len))
                return printf("[%zu bytes of unprintable data]\n", msg_len) < 0 ? -EIO : 0;
        /* Continuation lines under the first one's text. */
        for (size_t i = 0; i < msg_len; i++) {
                if (putchar(msg[i]) == EOF)
                        return -EIO;
                if (msg[i] == '\n' && i + 1 < msg_len && printf("%*s", prefix > 0 ? prefix : 0, "") < 0)
                        return -EIO;
        }
        return putchar('\n') == EOF ? -EIO : 0;
}

static int print_cat(sd_journal *j) {
        size_t n = 0;
        const char *msg = field(j, "MESSAGE", &n);

        if (msg && fwrite(msg, 1, n, stdout) != n)
                return -EIO;
        return putchar('\n') == EOF ? -EIO : 0;
}

/* A field value as journalctl -o json writes it: a string if it is text,
 * else an array of its bytes. */
static json_t *json_value(const char *v, size_t n) {
        json_t *a;

        if (memchr(v, 0, n) == NULL && utf8_is_valid(v, n))
                return json_stringn(v, n);
        a = json_array();
        for (size_t i = 0; a && i < n; i++)
                if (json_array_append_new(a, json_integer((unsigned char) v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

/* Adds `v` to the values of `name` in `o`, which maps each field to the
 * array of its values. */
static int json_add_field(json_t *o, const char *name, json_t *v) {
        json_t *a = json_object_get(o, name);

        if (!v)
                return -ENOMEM;
        if (!a) {
                a = json_array();
                if (!a || json_object_set_new(o, name, a) < 0) {
                        json_decref(v);
                        return -ENOMEM;
                }
        }
        return json_array_append_new(a, v) < 0 ? -ENOMEM : 0;
}

static int print_json(sd_journal *j) {
        _cleanup_free_ char *cursor = NULL, *s = NULL;
        json_t *o = json_object();
        const void *d;
        size_t l;
        uint64_t t;
        sd_id128_t boot;
        char num[32];
        int r = 0;

        if (!o)
                return -ENOMEM;
        if (sd_journal_get_cursor(j, &cursor) >= 0)
                r = json_add_field(o, "__CURSOR", json_string(cursor));
        if (r >= 0 && sd_journal_get_realtime_usec(j, &t) >= 0) {
                (void) snprintf(num, sizeof(num), "%" PRIu64, t);
                r = json_add_field(o, "__REALTIME_TIMESTAMP", json_string(num));
        }
        if (r >= 0 && sd_journal_get_monotonic_usec(j, &t, &boot) >= 0) {
                (void) snprintf(num, sizeof(num), "%" PRIu64, t);
                r = json_add_field(o, "__MONOTONIC_TIMESTAMP", json_string(num));
        }
        SD_JOURNAL_FOREACH_DATA(j, d, l) {
                const char *eq = memchr(d, '=', l);
                _cleanup_free_ char *name = NULL;

                if (r < 0)
                        break;
                if (!eq)
                        continue;
                name = strndup(d, (size_t) (eq - (const char *) d));
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                r = json_add_field(o, name, json_value(eq + 1, l - (size_t) (eq + 1 - (const char *) d)));
        }
        if (r >= 0) {
                const char *k;
                json_t *a;
                void *tmp;

                /* A field given once is its value; one given more than once
                 * the array of its values (as journalctl -o json). */
                json_object_foreach_safe(o, tmp, k, a)
                        if (json_array_size(a) == 1 && json_object_set(o, k, json_array_get(a, 0)) < 0)
                                r = -ENOMEM;
        }
        if (r >= 0) {
                s = json_dumps(o, JSON_COMPACT);
                if (!s)
                        r = -ENOMEM;
        }
        json_decref(o);
        if (r < 0)
                return r;
        return puts(s) < 0 ? -EIO : 0;
}

static int print_entry(sd_journal *j, LogsOutput mode) {
        switch (mode) {
        case LOGS_SHORT:
                return print_short(j);
        case LOGS_CAT:
                return print_cat(j);
        case LOGS_JSON:
                return print_json(j);
        default:
                return -EINVAL;
        }
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
        LogsOutput mode = LOGS_SHORT;
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
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-') {
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
                                mode = LOGS_SHORT;
                        else if (strcmp(optarg, "cat") == 0)
                                mode = LOGS_CAT;
                        else if (strcmp(optarg, "json") == 0)
                                mode = LOGS_JSON;
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
        r = IN_SET(state, POD_STATE_PREPARE, POD_STATE_PREPARED) ? -ENOENT : journal_reader_open(fd, units, &reader);
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
        if (mode == LOGS_JSON)
                (void) sd_journal_set_data_threshold(reader->journal, 0);

        if (follow) {
                struct sigaction sa = { .sa_handler = on_signal };

                /* No SA_RESTART: the wait returns, and we end cleanly. */
                (void) sigaction(SIGINT, &sa, NULL);
                (void) sigaction(SIGTERM, &sa, NULL);
                (void) sigaction(SIGHUP, &sa, NULL);
        }
        for (;;) {
                r = journal_reader_next(reader);
                if (r > 0) {
                        r = print_entry(reader->journal, mode);
                        if (r < 0)
                                break;
                        continue;
                }
                if (r < 0 || !follow || reader->done || interrupted)
                        break;
                if (fflush(stdout) == EOF) {
                        r = -EIO;
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
        if (fflush(stdout) == EOF && r >= 0)
                r = -errno;
        if (r == -EPIPE)
                return EXIT_OK; /* the reader went away: not our failure */
        if (r < 0) {
                log_errno(r, "cannot show the journal of pod %s", u);
                return EXIT_INTERNAL;
        }
        return EXIT_OK;
}
