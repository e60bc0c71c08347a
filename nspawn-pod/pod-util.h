/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the lifecycle verbs (status, list, cat-manifest, stop, gc, rm) share:
 * naming a pod on the command line, times and durations, JSON output,
 * waiting for a pod, removing one. docs/lifecycle.md describes all of it. */

#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "parse-util.h"
#include "time-util.h"
#include "pod.h"
#include "verbs.h"

/* Opens DIR/pods; says why not and returns -errno. */
int pod_util_open_pods(const GlobalOptions *g, int *ret_fd);

/* Resolves a UUID or a unique prefix of one. On failure says why
 * (logged): -EINVAL not a UUID or prefix, -ENOENT no such pod, -ENOTUNIQ the
 * prefix matches several pods (listed with their states), other -errno:
 * could not look. pod_util_exit_code() maps these to exit codes. */
int pod_util_resolve(int pods_fd, const char *ref, PodEntry *ret);

/* EXIT_INVALID for the "bad input" errors of pod_util_resolve() (and
 * -ENOENT, -ENOTUNIQ, -EINVAL, -EBUSY from the verbs), EXIT_INTERNAL else. */
int pod_util_exit_code(int r);

/* Like pod_util_resolve(), then opens the pod directory where it is now
 * (O_RDONLY): its state and fd. Messages printed; -ENOENT if it vanished,
 * -EIO if it cannot be opened. */
int pod_util_open(int pods_fd, const char *ref, PodEntry *ret_entry, PodState *ret_state,
                  int *ret_fd);

/* pod_util_open(), then reads it. */
int pod_util_load(int pods_fd, const char *ref, PodInfoFlags flags, PodInfo **ret);

/* Prints `v` as one line of compact JSON on stdout, and releases it. */
int json_print(json_t *v);

/* A JSON string of a time as time_format() writes it, or null if unknown. */
json_t *json_time(const struct timespec *t);

/* Blocks until nobody holds the pod directory's lock (a blocking shared
 * flock on a new open file description of `dir_fd`: no polling), at most
 * `timeout_usec` (UINT64_MAX: no limit). 0 when it is free, -ETIMEDOUT. */
int pod_util_wait_unlocked(int dir_fd, uint64_t timeout_usec);

/* Removes a pod that the caller has locked exclusively (`dir_fd`) and moved
 * to exited-garbage/ or garbage/ (`state`): kills whatever is left in its
 * cgroups, unmounts everything below its directory, removes nspawn's
 * leftovers for it in /run/systemd/nspawn, then the directory. Says what
 * failed. 0 on success, -ENOENT if it was already gone (someone
 * else removed it), other -errno: it stays where it is, for a later gc. */
int pod_util_remove(int pods_fd, const uint8_t uuid[16], PodState state, int dir_fd);

/* "text" or "json" for --format. -EINVAL for anything else. */
typedef enum OutputFormat {
        OUTPUT_TEXT,
        OUTPUT_JSON,
} OutputFormat;
int parse_output_format(const char *s, OutputFormat *ret);

/* pod_move() of a pod the caller has locked through `*dir_fd`. A pod
 * directory that is itself a mount point cannot be renamed (EBUSY): then
 * everything at and below it is unmounted, the directory opened and locked
 * again (what `*dir_fd` was locked through was the mount's root, now
 * detached; `*dir_fd` is replaced) and the move retried. Says what failed
 *; -EWOULDBLOCK if someone else locked the directory meanwhile. */
int pod_util_move_locked(int pods_fd, const uint8_t uuid[16], PodState from, PodState to, int *dir_fd);

/* A running app, found from the command line: its pod (a UUID or a prefix,
 * in pods/run/ and locked), the app (--app, or the only one) and its main
 * process (lib/pod-enter.h). enter and bind use it. */
typedef struct PodUtilRunningApp {
        uint8_t uuid[16];
        char ustr[37];
        int pod_fd;
        struct Pod *pod;
        char *app;
        pid_t init_pid; /* the pod's init, as the host sees it */
        int pidfd;      /* the app's main process */
        pid_t pid;
} PodUtilRunningApp;
#define POD_UTIL_RUNNING_APP_INIT { .pod_fd = -1, .pidfd = -1 }

/* Says why not (logged) and returns -errno. */
int pod_util_find_app(const GlobalOptions *g, const char *ref, const char *want_app, PodUtilRunningApp *ret);
void pod_util_running_app_done(PodUtilRunningApp *ra);
