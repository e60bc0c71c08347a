/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Stopping a running pod (docs/lifecycle.md, "stop"): shared by `nspawn-pod
 * stop`, the stage1 `stop` entrypoint and the run process, which passes on
 * the stop signals it receives.
 *
 * In order, a stop is SIGTERM to the pod's systemd-nspawn, which sends the
 * pod's init (systemd) SIGRTMIN+3, once: systemd halts, every app is stopped
 * and its status recorded. A signal sent to a PID namespace's init from
 * outside it is discarded while the init neither catches nor blocks it, and
 * nspawn itself dies of a SIGTERM that comes before it has blocked it: both
 * happen during the first milliseconds of a pod, and such a stop is lost
 * (the pod runs on) or kills nspawn without a shutdown. So a stop in order
 * waits until the pod's init takes SIGRTMIN+3 (catches or blocks it): nspawn
 * forks the init only after it has blocked its own signals.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* The pod's init: the only child of its nspawn (`nspawn_pid`), as rkt finds
 * it. -ESRCH: nspawn is gone; -EAGAIN: it has no child yet. */
int pod_init_pid(pid_t nspawn_pid, pid_t *ret);

/* 1 if the pod's init catches or blocks SIGRTMIN+3 (nspawn's stop request
 * then reaches it), 0 if not yet, -ESRCH if nspawn is gone. */
int pod_init_takes_stop(pid_t nspawn_pid);

/* How long a stop in order waits for the pod's init to take SIGRTMIN+3. */
#define POD_STOP_READY_TIMEOUT_USEC (30ULL * 1000000ULL)

/* Stops the running pod whose directory is `dir_fd`. In order (`force`
 * false): SIGTERM, through a pidfd, to the nspawn its ppid file names, once
 * that process is checked to be in the pod's cgroups and the pod's init
 * takes the stop request. With `force`: SIGKILL to every process in the
 * pod's cgroups. Errors, with `err` saying why: -ESRCH nspawn is gone (or
 * the ppid file is missing or malformed), -EPERM the ppid file names a
 * process outside the pod, -ETIMEDOUT the init did not get ready in
 * POD_STOP_READY_TIMEOUT_USEC, -ENOENT (force) the pod has no cgroups yet. */
int pod_stop(int dir_fd, const uint8_t uuid[16], bool force, NpError *err);
