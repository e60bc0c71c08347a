/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * gc: removes exited pods (once the grace period is over), pods whose
 * preparation died, and pods already marked for removal. Safe to run in
 * parallel: a pod is moved to exited-garbage/ or garbage/ and removed only
 * while gc holds its lock exclusively, and a pod someone else holds (running,
 * being prepared, being removed by another gc or rm) is left alone.
 * docs/lifecycle.md.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "fd-util.h"
#include "names.h"
#include "pod-util.h"

/* rkt's default grace period for exited pods. */
#define GC_GRACE_DEFAULT_USEC (30ULL * 60ULL * 1000000ULL)
/* A prepare/.new-<uuid> directory unlocked for this long was left by a
 * pod creation that died between mkdir and lock (lib/pod.c). */
#define GC_NEW_DIR_AGE_SEC 60

static void gc_usage(FILE *f) {
        fputs("Usage: nspawn-pod [--dir=DIR] gc [OPTIONS]\n"
              "\n"
              "Remove exited pods that exited longer ago than the grace period, pods whose\n"
              "preparation failed, and pods marked for removal: kill what is left in their\n"
              "cgroups, unmount what is mounted below them, remove their directories. Prints\n"
              "the UUID of each pod removed. Running pods, pods being prepared, prepared pods\n"
              "and pods another gc or rm is removing are left alone. Safe to run in parallel.\n"
              "\n"
              "  --grace-period=DURATION  how long exited pods are kept (default 30m; 0: none);\n"
              "                           like 30s, 10m, 1h30m\n"
              "  -h, --help               show this help\n"
              "\n"
              "Exit status: 0 done (nothing to remove included); 2 usage; 254 a pod could not\n"
              "be removed (it stays marked, for the next gc) or another internal error.\n",
              f);
}

static uint64_t timespec_usec(const struct timespec *t) {
        return (uint64_t) t->tv_sec * 1000000ULL + (uint64_t) t->tv_nsec / 1000ULL;
}

static uint64_t realtime_usec(void) {
        struct timespec t;

        (void) clock_gettime(CLOCK_REALTIME, &t);
        return timespec_usec(&t);
}

/* An exited pod is due when its exit is older than the grace period. Its
 * exit time is the exit-code record's; a pod whose run process was killed
 * has none, then its newest status file's; failing that its start. A pod
 * with no time at all is due. */
static bool exit_is_due(int dir_fd, const uint8_t uuid[16], uint64_t grace) {
        _cleanup_(pod_info_freep) PodInfo *info = NULL;
        const struct timespec *t;
        uint64_t now = realtime_usec(), then;

        if (grace == 0)
                return true;
        if (pod_info_read(dir_fd, uuid, POD_STATE_RUN, 0, &info) < 0)
                return true;
        t = info->exited.tv_sec ? &info->exited : info->started.tv_sec ? &info->started : &info->created;
        if (t->tv_sec == 0)
                return true;
        then = timespec_usec(t);
        return now < then ? false : now - then >= grace;
}

/* Collects one pod if it is garbage; 1 if it was removed, 0 if left alone. */
static int gc_one(int pods_fd, const PodEntry *e, uint64_t grace) {
        _cleanup_close_ int fd = -1;
        PodState to;
        char u[37];
        int r;

        uuid_format(e->uuid, u);
        switch (e->state) {
        case POD_STATE_PREPARED:
                return 0; /* kept until run-prepared or rm */
        case POD_STATE_PREPARE:
                to = POD_STATE_GARBAGE;
                break;
        case POD_STATE_RUN:
                to = POD_STATE_EXITED_GARBAGE;
                break;
        case POD_STATE_EXITED_GARBAGE:
        case POD_STATE_GARBAGE:
                to = e->state;
                break;
        case _POD_STATE_MAX:
        default:
                return 0;
        }
        r = pod_open(pods_fd, e->uuid, e->state, &fd);
        if (r == -ENOENT)
                return 0; /* moved or removed since we listed: someone else's */
        if (r < 0) {
                log_error("cannot open pod %s: %s", u, strerror(-r));
                return r;
        }
        /* Checked before locking: our own lock would make it look running. */
        if (e->state == POD_STATE_RUN && !exit_is_due(fd, e->uuid, grace))
                return 0;
        /* Exclusive and non-blocking: fails for a running pod, a pod being
         * prepared, and one another gc or rm is removing. */
        r = pod_lock(fd);
        if (r == -EWOULDBLOCK)
                return 0;
        if (r < 0) {
                log_error("cannot lock pod %s: %s", u, strerror(-r));
                return r;
        }
        if (to != e->state) {
                r = pod_util_move_locked(pods_fd, e->uuid, e->state, to, &fd);
                if (r == -ENOENT || r == -EWOULDBLOCK)
                        return 0;
                if (r < 0)
                        return r;
        }
        r = pod_util_remove(pods_fd, e->uuid, to, fd);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

/* prepare/.new-<uuid> left by a pod creation that died before locking it. */
static int gc_new_dirs(int pods_fd, unsigned *removed) {
        _cleanup_close_ int pfd = fd_open_dir_nofollow(pods_fd, pod_state_dir(POD_STATE_PREPARE), O_RDONLY);
        struct dirent *de;
        int ret = 0;
        DIR *d;

        if (pfd < 0)
                return pfd == -ENOENT ? 0 : pfd;
        d = fdopendir(fcntl(pfd, F_DUPFD_CLOEXEC, 3));
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                const char *u = de->d_name + strlen(POD_NEW_PREFIX);
                _cleanup_close_ int fd = -1;
                uint8_t uuid[16];
                char canon[37];
                struct stat st;
                int r;

                if (strncmp(de->d_name, POD_NEW_PREFIX, strlen(POD_NEW_PREFIX)) != 0 || uuid_parse(u, uuid) < 0 ||
                    strcmp(uuid_format(uuid, canon), u) != 0)
                        continue;
                fd = fd_open_dir_nofollow(pfd, de->d_name, O_RDONLY);
                if (fd < 0 || fstat(fd, &st) < 0 || st.st_mtim.tv_sec + GC_NEW_DIR_AGE_SEC > time(NULL) ||
                    pod_lock(fd) < 0)
                        continue;
                /* Ours now: give it its pod name in garbage/ and remove it. */
                {
                        _cleanup_close_ int gfd = fd_open_dir_nofollow(pods_fd, pod_state_dir(POD_STATE_GARBAGE), O_PATH);

                        if (gfd < 0 || renameat2(pfd, de->d_name, gfd, canon, RENAME_NOREPLACE) < 0)
                                continue;
                }
                r = pod_util_remove(pods_fd, uuid, POD_STATE_GARBAGE, fd);
                if (r >= 0) {
                        printf("%s\n", canon);
                        (*removed)++;
                } else if (r != -ENOENT && ret == 0)
                        ret = r;
        }
        closedir(d);
        return ret;
}

int verb_gc(int argc, char *argv[], const GlobalOptions *g) {
        static const struct option options[] = {
                { "grace-period", required_argument, NULL, 'g' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ PodEntry *entries = NULL;
        _cleanup_close_ int pods = -1;
        uint64_t grace = GC_GRACE_DEFAULT_USEC;
        unsigned removed = 0;
        size_t n = 0;
        int c, r, ret = EXIT_OK;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'g':
                        if (parse_duration(optarg, &grace) < 0) {
                                log_error("--grace-period: \"%s\" is not a duration (0, 30s, 10m, …)",
                                          optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h':
                        gc_usage(stdout);
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
        for (size_t i = 0; i < n; i++) {
                char u[37];

                r = gc_one(pods, &entries[i], grace);
                if (r < 0)
                        ret = EXIT_INTERNAL; /* said why; the next gc tries again */
                else if (r > 0) {
                        printf("%s\n", uuid_format(entries[i].uuid, u));
                        /* One line per pod as it goes: a parallel reader sees progress. */
                        (void) fflush(stdout);
                        removed++;
                }
        }
        r = gc_new_dirs(pods, &removed);
        if (r < 0) {
                log_error("cannot clean up pods/prepare: %s", strerror(-r));
                ret = EXIT_INTERNAL;
        }
        if (fflush(stdout) != 0)
                ret = EXIT_INTERNAL;
        return ret;
}
