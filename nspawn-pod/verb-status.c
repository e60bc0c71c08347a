/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status: a pod's state, times, pid, exit code and its apps' statuses, as
 * key=value lines (rkt's `rkt status`) or JSON. docs/lifecycle.md.
 */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fd-util.h"
#include "journal.h"
#include "log.h"
#include "names.h"
#include "pod-bind.h"
#include "pod-net.h"
#include "pod-stop.h"
#include "pod-util.h"
#include "proc-state.h"

static void status_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] status [OPTIONS] UUID\n"
              "\n"
              "Show a pod's state, its times and its apps' exit statuses. UUID may be a\n"
              "unique prefix (at least 4 hex digits, with or without dashes).\n"
              "\n"
              "  --format=FORMAT    text (key=value lines, default) or json\n"
              "  --wait[=TIMEOUT]   first wait until the pod no longer runs (nor is being\n"
              "                     prepared); TIMEOUT like 30s, 10m, 1h30m (default: no limit)\n"
              "  --wait-ready[=TIMEOUT]  first wait until the pod is ready: every app has\n"
              "                     started, and told it is ready if its image says it will\n"
              "                     (sd_notify); the pod's /rkt/supervisor-status is then\n"
              "                     \"ready\" (docs/lifecycle.md)\n"
              "  -h, --help         show this help\n"
              "\n"
              "Exit status: 0 shown; 1 not a UUID, no such pod, or the prefix matches several;\n"
              "2 usage; 3 --wait-ready: the pod ended before it was ready; 124 --wait or\n"
              "--wait-ready timed out (the status is shown all the same); 254 internal error.\n"
              "Keys and states: docs/lifecycle.md.\n",
              f);
}

#define EXIT_NOT_READY 3
#define READY_POLL_USEC (50 * 1000)

/* The pod's readiness: the symlink /rkt/supervisor-status -> ready, which
 * the pod's supervisor-ready.service makes once default.target is reached
 * (every app started, and ready if Type=notify) and removes on a stop. */
static bool pod_is_ready(int pods, const PodInfo *p) {
        _cleanup_close_ int fd = -1, rkt = -1;
        char target[16];
        PodState state;
        ssize_t n;

        if (p->status != POD_STATUS_RUNNING || pod_open_any(pods, p->uuid, &state, &fd) < 0)
                return false;
        /* rkt/ is in the pod's root, which the pod may change: no symlinks. */
        rkt = fd_open_in_root(fd, "stage1/rootfs/rkt", O_PATH | O_DIRECTORY, 0, true);
        if (rkt < 0)
                return false;
        n = readlinkat(rkt, "supervisor-status", target, sizeof(target) - 1);
        return n == 5 && memcmp(target, "ready", 5) == 0;
}

/* Waits until the pod `u` is ready (0), has ended or was never run (-ESRCH),
 * or `timeout` has passed (-ETIMEDOUT); *info is reloaded as it is then. */
static int wait_until_ready(int pods, const char *u, uint64_t timeout, PodInfo **info) {
        uint64_t start = now_usec();
        int r;

        for (;;) {
                if (pod_is_ready(pods, *info))
                        return 0;
                if (!IN_SET((*info)->status, POD_STATUS_RUNNING, POD_STATUS_PREPARING, POD_STATUS_PREPARED))
                        return -ESRCH;
                if (timeout != UINT64_MAX && now_usec() - start >= timeout)
                        return -ETIMEDOUT;
                (void) usleep(READY_POLL_USEC);
                *info = pod_info_free(*info);
                r = pod_util_load(pods, u, POD_INFO_APP_STATUS, info);
                if (r < 0)
                        return r;
        }
}

static bool has_exited(const PodInfo *p) {
        return (p->state == POD_STATE_RUN && p->status == POD_STATUS_EXITED) ||
               p->state == POD_STATE_EXITED_GARBAGE;
}

/* The runtime binds of a running pod (lib/pod-bind.h); none otherwise:
 * they went with the apps' mount namespaces. */
typedef struct Binds {
        PodBind *b;
        size_t n;
} Binds;

static void binds_done(Binds *b) {
        pod_binds_free(b->b, b->n);
}

static int read_binds(int pods_fd, const PodInfo *p, Binds *ret) {
        _cleanup_free_ char *rel = NULL;
        _cleanup_close_ int fd = -1;
        char u[37];

        if (p->state != POD_STATE_RUN || p->status != POD_STATUS_RUNNING)
                return 0;
        if (asprintf(&rel, "%s/%s", pod_state_dir(p->state), uuid_format(p->uuid, u)) < 0)
                return -ENOMEM;
        fd = fd_open_in_root(pods_fd, rel, O_RDONLY | O_DIRECTORY, 0, true);
        if (fd < 0)
                return 0;
        return pod_binds_read(fd, p->uuid, &ret->b, &ret->n);
}

/* A running pod's user namespace (run --private-users), from its init's
 * uid_map: 0 with the range, -ENOENT when it has none (or is not running). */
static int pod_userns(const PodInfo *p, uint32_t *ret_shift, uint32_t *ret_range) {
        _cleanup_close_ int proc = -1;
        char path[32];
        pid_t init;

        if (p->state != POD_STATE_RUN || p->status != POD_STATUS_RUNNING || p->pid <= 0 ||
            pod_init_pid(p->pid, &init) < 0)
                return -ENOENT;
        snprintf(path, sizeof(path), "/proc/%d", (int) init);
        proc = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc < 0)
                return -ENOENT;
        return proc_userns_range(proc, ret_shift, ret_range);
}

static void print_text(const PodInfo *p, const char *journal, const Binds *binds) {
        char t[64];

        printf("state=%s\n", pod_status_to_string(p->status));
        if (p->created.tv_sec)
                printf("created=%s\n", time_format(&p->created, t));
        if (p->started.tv_sec)
                printf("started=%s\n", time_format(&p->started, t));
        if (p->pid > 0)
                printf("pid=%d\n", (int) p->pid);
        printf("exited=%s\n", has_exited(p) ? "true" : "false");
        if (p->exited.tv_sec && has_exited(p))
                printf("exited-at=%s\n", time_format(&p->exited, t));
        if (p->exit_code >= 0)
                printf("exit-code=%d\n", p->exit_code);
        if (journal)
                printf("journal=%s\n", journal);
        {
                uint32_t shift, range;

                if (pod_userns(p, &shift, &range) >= 0)
                        printf("private-users=%" PRIu32 ":%" PRIu32 "\n", shift, range);
        }
        for (size_t i = 0; i < p->n_apps; i++) {
                if (p->apps[i].status >= 0)
                        printf("app-%s=%d\n", p->apps[i].name, p->apps[i].status);
                /* ".end", not "-end": an app may be called "x-end". */
                if (p->apps[i].end)
                        printf("app-%s.end=%s\n", p->apps[i].name, p->apps[i].end);
        }
        {
                _cleanup_free_ char *nets = pod_info_networks_text(p);

                if (nets)
                        printf("networks=%s\n", nets);
        }
        for (size_t i = 0; i < binds->n; i++)
                printf("bind-%s=%s from %s%s\n", binds->b[i].app, binds->b[i].dest, binds->b[i].source,
                       binds->b[i].read_only ? " (read-only)" : "");
}

static int print_json(const PodInfo *p, const char *journal, const Binds *binds) {
        json_t *o = json_object(), *apps = json_array();
        char u[37];

        if (!o || !apps) {
                json_decref(o);
                json_decref(apps);
                return -ENOMEM;
        }
        json_object_set_new(o, "uuid", json_string(uuid_format(p->uuid, u)));
        json_object_set_new(o, "state", json_string(pod_status_to_string(p->status)));
        json_object_set_new(o, "created", json_time(&p->created));
        json_object_set_new(o, "started", json_time(&p->started));
        json_object_set_new(o, "pid", p->pid > 0 ? json_integer(p->pid) : json_null());
        json_object_set_new(o, "exited", json_boolean(has_exited(p)));
        json_object_set_new(o, "exited-at", has_exited(p) ? json_time(&p->exited) : json_null());
        json_object_set_new(o, "exit-code", p->exit_code >= 0 ? json_integer(p->exit_code) : json_null());
        json_object_set_new(o, "journal", journal ? json_string(journal) : json_null());
        {
                uint32_t shift, range;

                json_object_set_new(o, "privateUsers",
                                    pod_userns(p, &shift, &range) >= 0
                                            ? json_pack("{s:I,s:I}", "shift", (json_int_t) shift, "range", (json_int_t) range)
                                            : json_null());
        }
        for (size_t i = 0; i < p->n_apps; i++) {
                json_t *a = json_object();

                if (!a)
                        break;
                json_object_set_new(a, "name", json_string(p->apps[i].name));
                json_object_set_new(a, "status", p->apps[i].status >= 0 ? json_integer(p->apps[i].status) : json_null());
                json_object_set_new(a, "end", p->apps[i].end ? json_string(p->apps[i].end) : json_null());
                json_array_append_new(apps, a);
        }
        json_object_set_new(o, "apps", apps);
        {
                json_t *nl = json_array();

                for (size_t i = 0; nl && i < p->n_networks; i++) {
                        json_t *addrs = json_array();

                        STRV_FOREACH(a, p->networks[i].addresses)
                                json_array_append_new(addrs, json_string(*a));
                        json_array_append_new(nl, json_pack("{s:s,s:s,s:o}", "name", p->networks[i].name, "interface",
                                                            p->networks[i].ifname, "addresses",
                                                            addrs ? addrs : json_array()));
                }
                json_object_set_new(o, "networks", nl ? nl : json_null());
        }
        {
                json_t *bl = json_array();

                for (size_t i = 0; bl && i < binds->n; i++) {
                        json_t *b = json_object();

                        if (!b)
                                break;
                        json_object_set_new(b, "app", json_string(binds->b[i].app));
                        json_object_set_new(b, "destination", json_string(binds->b[i].dest));
                        json_object_set_new(b, "source", json_string(binds->b[i].source));
                        json_object_set_new(b, "readOnly", json_boolean(binds->b[i].read_only));
                        json_array_append_new(bl, b);
                }
                json_object_set_new(o, "binds", bl ? bl : json_null());
        }
        return json_print(o);
}

/* Where the pod's journal is (docs/logs.md), for `journalctl -D`: an
 * absolute path, or NULL when it has none (or has not run yet). */
static int journal_path(const GlobalOptions *g, int pods_fd, const PodInfo *p, char **ret) {
        _cleanup_free_ char *rel = NULL, *cwd = NULL;
        _cleanup_close_ int fd = -1;
        char u[37];

        *ret = NULL;
        /* A prepared pod has the stage1's empty directory, not a journal yet. */
        if (IN_SET(p->state, POD_STATE_PREPARE, POD_STATE_PREPARED))
                return 0;
        if (asprintf(&rel, "%s/%s/" JOURNAL_POD_DIR, pod_state_dir(p->state), uuid_format(p->uuid, u)) < 0)
                return -ENOMEM;
        fd = fd_open_in_root(pods_fd, rel, O_PATH | O_DIRECTORY, 0, true);
        if (fd < 0)
                return 0;
        if (g->dir[0] != '/' && !(cwd = getcwd(NULL, 0)))
                return -ENOMEM;
        return asprintf(ret, "%s%s%s/pods/%s", cwd ? cwd : "", cwd ? "/" : "", g->dir, rel) < 0 ? -ENOMEM : 0;
}

int verb_status(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "format", required_argument, NULL, 'f' },
                { "wait", optional_argument, NULL, 'w' },
                { "wait-ready", optional_argument, NULL, 'r' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(pod_info_freep) PodInfo *info = NULL;
        _cleanup_free_ char *journal = NULL;
        _cleanup_(binds_done) Binds binds = {};
        _cleanup_close_ int pods = -1;
        OutputFormat format = OUTPUT_TEXT;
        uint64_t timeout = UINT64_MAX;
        bool wait = false, wait_ready = false, timed_out = false, never_ready = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'f':
                        if (parse_output_format(optarg, &format) < 0) {
                                log_error("--format must be text or json, not \"%s\"", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'w':
                        wait = true;
                        if (optarg && parse_duration(optarg, &timeout) < 0) {
                                log_error("--wait: \"%s\" is not a duration (30s, 10m, …)",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'r':
                        wait_ready = true;
                        if (optarg && parse_duration(optarg, &timeout) < 0) {
                                log_error("--wait-ready: \"%s\" is not a duration (30s, 10m, …)", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        status_usage(stdout);
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
        r = pod_util_load(pods, argv[optind], POD_INFO_APP_STATUS, &info);
        if (r < 0)
                return pod_util_exit_code(r);
        if (wait && wait_ready) {
                log_error("--wait and --wait-ready wait for different things: give one");
                return EXIT_USAGE;
        }
        if (wait_ready) {
                char u[37];

                uuid_format(info->uuid, u);
                r = wait_until_ready(pods, u, timeout, &info);
                if (r == -ETIMEDOUT) {
                        log_error("pod %s is not ready after the --wait-ready time", u);
                        timed_out = true;
                } else if (r == -ESRCH) {
                        log_error("pod %s ended before it was ready", u);
                        never_ready = true;
                } else if (r < 0)
                        return pod_util_exit_code(r);
        }
        if (wait && IN_SET(info->status, POD_STATUS_RUNNING, POD_STATUS_PREPARING)) {
                _cleanup_close_ int fd = -1;
                PodState state;
                char u[37];

                uuid_format(info->uuid, u);
                r = pod_open_any(pods, info->uuid, &state, &fd);
                if (r >= 0)
                        r = pod_util_wait_unlocked(fd, timeout);
                if (r == -ETIMEDOUT) {
                        log_error("pod %s still runs after the --wait time", u);
                        timed_out = true;
                } else if (r < 0 && r != -ENOENT) {
                        log_error("cannot wait for pod %s: %s", u, strerror(-r));
                        return EXIT_INTERNAL;
                }
                /* Read it again, as it is now. */
                info = pod_info_free(info);
                r = pod_util_load(pods, u, POD_INFO_APP_STATUS, &info);
                if (r < 0)
                        return pod_util_exit_code(r);
        }
        r = journal_path(g, pods, info, &journal);
        if (r >= 0)
                r = read_binds(pods, info, &binds);
        if (r < 0)
                return EXIT_INTERNAL;
        if (format == OUTPUT_JSON) {
                if (print_json(info, journal, &binds) < 0)
                        return EXIT_INTERNAL;
        } else
                print_text(info, journal, &binds);
        if (fflush(stdout) != 0)
                return EXIT_INTERNAL;
        return timed_out ? EXIT_TIMEOUT : never_ready ? EXIT_NOT_READY : EXIT_OK;
}
