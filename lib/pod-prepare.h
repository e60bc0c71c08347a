/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Preparing a pod from images (docs/run.md, "prepare"): what `nspawn-pod
 * prepare` and `run` do before a pod can run, and what rkt's stage0 does for
 * rkt's pods. The result has rkt's layout (docs/stage1.md), so that rkt's
 * own commands work on it: pod, pod-created, stage1/{manifest,rootfs},
 * stage1TreeStoreID, appsinfo/<app>/manifest, the apps below
 * stage1/rootfs/opt/stage2/<app>/.
 */

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "manifest.h"
#include "pod.h"

/* One app, as the command line gives it. */
typedef struct PodPrepareApp {
        const char *image;     /* path of the ACI or image directory */
        const char *name;      /* NULL: from the image name */
        const char *exec;      /* replaces the image's exec (and its arguments) */
        const char *user, *group, *working_dir; /* replace the image's */
        char **environment;    /* NAME=VALUE, in order, over the image's */
        char **args;           /* replace the image's arguments, when has_args */
        bool has_args;
        const Mount *mounts;   /* --mount=, in order (pod_prepare_parse_mount()) */
        size_t n_mounts;
        bool readonly_rootfs;  /* --readonly-rootfs */
        const char *supplementary_gids; /* --supplementary-gids=N,N,…: replace the image's */
        char **user_annotations, **user_labels; /* NAME=VALUE, over the image's */
        const char *stdio[3];  /* --stdin, --stdout, --stderr: null, log, tty, stream (the
                                * runtime app's coreos.com/rkt/stage2/… annotations) */
        char **isolators;      /* "OPTION=VALUE" of the isolator options (--memory=64Mi, …), in
                                * order: each replaces the image's of its kind
                                * (manifest_app_set_isolator_option()) */
} PodPrepareApp;

typedef struct PodPrepareOptions {
        /* A pod manifest to use as it is but for its apps' images, which
         * come from apps[i] (same order; only `image` and `name` may be
         * given then). Modified: the apps' image names and IDs are filled in. */
        Pod *pod_manifest;
        char **inherit_env;      /* NAME=VALUE (--inherit-env: the caller's environment), for every
                                  * app, for names the app does not set itself */
        char **env_file;         /* NAME=VALUE (--set-env-file), for every app, over inherit_env */
        char **set_env;          /* NAME=VALUE for every app, over env_file, under each app's own */
        char **annotations;      /* NAME=VALUE (--annotation): the pod's annotations */
        const char *stage1_path; /* the stage1 image; NULL: stage1_default_path() */
        const char *journal_max_use; /* the journal's bound (lib/journal.h), recorded as the
                                      * pod's annotation; NULL: the manifest's, else the default */
        const PodPrepareApp *apps;
        size_t n_apps;
        const Volume *volumes;   /* --volume=, in order (pod_prepare_parse_volume()) */
        size_t n_volumes;
        const ExposedPort *ports; /* --port=, in order (pod_prepare_parse_port()) */
        size_t n_ports;
} PodPrepareOptions;

/* rkt's `--port=NAME:[HOSTIP:]HOSTPORT` (docs/networks.md) into `ret`
 * (pod_prepare_port_clear()). */
int pod_prepare_parse_port(const char *arg, ExposedPort *ret, NpError *err);
void pod_prepare_port_clear(ExposedPort *p);

/* rkt's `--volume=NAME,kind=host|empty[,source=PATH][,readOnly=BOOL]
 * [,recursive=BOOL][,mode=OCTAL][,uid=N][,gid=N]` (docs/volumes.md) into
 * `ret` (its strings the caller's: pod_prepare_volume_clear()); a message in `err`
 * when it is not one. */
int pod_prepare_parse_volume(const char *arg, Volume *ret, NpError *err);

/* rkt's `--mount=volume=NAME,target=PATH` into `ret` (pod_prepare_mount_clear()). */
int pod_prepare_parse_mount(const char *arg, Mount *ret, NpError *err);

void pod_prepare_volume_clear(Volume *v);
void pod_prepare_mount_clear(Mount *m);

/* Creates pods/prepare/<new uuid> below `pods_fd`, locked, and prepares it:
 * every ACI imported into the image store of `data_dir` once (an image
 * directory into the pod), each app's writable overlay directories, the
 * stage1 (stored once, copied into the pod), the pod manifest (validated as
 * a run will read it). Returns the UUID and the locked directory fd. On
 * failure nothing is left: `err` says why; -ENOMEM, -EIO, -ENOSPC are our
 * own failures, other codes bad input. */
int pod_prepare(const char *data_dir, int pods_fd, const PodPrepareOptions *o, uint8_t ret_uuid[16], int *ret_lock_fd,
                NpError *err);

/* Removes pods/<state>/<uuid> (a pod being prepared, that nobody else
 * knows yet), best effort. */
void pod_remove_dir(int pods_fd, PodState state, const uint8_t uuid[16]);
