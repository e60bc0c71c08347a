/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Runtime bind mounts into a running app (docs/volumes.md, "Runtime
 * mounts"): `nspawn-pod bind` and `unbind`, and rkt's `app add` mounts
 * later. No D-Bus, no machined, no propagation directory:
 *
 *  - the source is cloned into a detached tree in our own mount namespace
 *    (lib/bind-mount.h: read-only before it is attached, when asked);
 *  - a child process joins the app's own mount namespace through the app's
 *    pidfd (setns(): no pid can be reused under us), resolves the
 *    destination from the app's root, opened through the same pidfd's
 *    /proc entry before the join, and attaches the tree there;
 *  - the bind is recorded in the pod directory (`binds`), which `status`
 *    shows; it goes with the app's mount namespace, i.e. when the app or
 *    the pod stops. Nothing is ever mounted in the host's namespace.
 */

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

typedef enum PodBindFlags {
        POD_BIND_READ_ONLY = 1 << 0, /* never writable, not even for an instant */
        POD_BIND_MKDIR = 1 << 1,     /* create a missing destination (and parents) */
} PodBindFlags;

typedef struct PodBind {
        char *app;
        char *dest;   /* resolved inside the app */
        char *source;
        bool read_only;
} PodBind;

void pod_binds_free(PodBind *b, size_t n);

/* Binds `source` (a host path: directory, file or device node) at `dest` in
 * the app `app` of the pod `pod_fd`, whose main process is `pidfd`/`pid`
 * (lib/pod-enter.h). The resolved destination in *ret_dest. */
int pod_bind(int pod_fd, int pidfd, pid_t pid, const char *app, const char *source, const char *dest,
             PodBindFlags flags, char **ret_dest, NpError *err);

/* Unmounts what is mounted at `dest` in the app and forgets its record. */
int pod_unbind(int pod_fd, int pidfd, pid_t pid, const char *app, const char *dest, char **ret_dest, NpError *err);

/* The pod's recorded binds, in the order they were made. */
int pod_binds_read(int pod_fd, PodBind **ret, size_t *ret_n);
