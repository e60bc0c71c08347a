/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Runtime bind mounts into a running app (docs/volumes.md, "Runtime
 * mounts"): `nspawn-pod bind` and `unbind`, and rkt's `app add` mounts
 * later. No D-Bus, no machined, no propagation directory:
 *
 *  - the source is cloned into a detached tree in our own mount namespace
 *    (lib/bind-mount.h: read-only before it is attached, when asked);
 *  - the app's mount namespace is opened through /proc/<pid>/ns/mnt and
 *    checked: its process was still the app's main process after the open
 *    (its pidfd is alive), and the namespace belongs to the pod's user
 *    namespace (not one the app made with unshare -Urm, where it would be
 *    root and could remount our read-only bind writable);
 *  - a child process, non-dumpable and with no fd of ours but those it
 *    needs, joins that namespace, resolves the destination from the app's
 *    root (opened through the same process's /proc entry), and attaches
 *    the tree there;
 *  - the bind is recorded in the pod directory (`binds`) with the id of
 *    the mount it made and the app's namespace: `unbind` unmounts only a
 *    mount that is one of those records (never nspawn's or prepare-app's
 *    protective mounts, whatever DEST the app's symlinks lead to), and a
 *    record of a namespace that is gone (the app restarted) is not shown.
 *    Nothing is ever mounted in the host's namespace.
 */

#include <stdbool.h>
#include <stdint.h>
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
        uint64_t mount_id;  /* the mount made */
        uint64_t ns_inode;  /* the app's mount namespace it was made in */
} PodBind;

void pod_binds_free(PodBind *b, size_t n);

/* The app `app` of the running pod `pod_fd`, whose init is `init_pid` and
 * whose main process is `pidfd`/`pid` (lib/pod-enter.h). */
typedef struct PodBindTarget {
        int pod_fd;
        pid_t init_pid;
        int pidfd;
        pid_t pid;
        const char *app;
} PodBindTarget;

/* Binds `source` (a host directory or file; device nodes are refused:
 * -EOPNOTSUPP) at `dest` in the app. The resolved destination in
 * *ret_dest. -EEXIST: a bind of ours is there already. */
int pod_bind(const PodBindTarget *t, const char *source, const char *dest, PodBindFlags flags, char **ret_dest,
             NpError *err);

/* Unmounts our bind at `dest` in the app and forgets its record; -EINVAL
 * when what is there is not one of ours. */
int pod_unbind(const PodBindTarget *t, const char *dest, char **ret_dest, NpError *err);

/* The recorded binds of the running pod `pod_fd` (UUID `uuid`) that are
 * still in place: of apps whose main process is in the namespace they were
 * made in. None for a pod that is not running. */
int pod_binds_read(int pod_fd, const uint8_t uuid[16], PodBind **ret, size_t *ret_n);
