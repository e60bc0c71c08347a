/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Stage1 images (docs/stage1.md). Ours, build/stage1-host.aci (`make
 * stage1`), is what rkt's stage0 drops in with --stage1-path=; the nspawn-pod
 * command uses the same image for its own pods, stored once per data
 * directory in rkt's tree store (<data>/cas/tree/<image id>/{manifest,rootfs},
 * where `rkt enter` looks for a pod's stage1) and copied into each pod as a
 * stage0 does: POD/stage1/{manifest,rootfs} and POD/stage1TreeStoreID.
 *
 * The other side: any pod's POD/stage1/manifest names its stage1's
 * entrypoints, which is how the lifecycle verbs know
 * whether a pod's stage1 is ours or someone else's (rkt's own flavors).
 */

#include <stdbool.h>

#include "error.h"

#define STAGE1_IMAGE_NAME "nspawn-pod/stage1-host"
#define STAGE1_ACI_NAME "stage1-host.aci"
/* rkt's tree store, below the data directory. */
#define STAGE1_TREE_STORE "cas/tree"

/* Our stage1 image: $NSPAWN_POD_STAGE1, else stage1-host.aci beside the
 * running program (a build tree), else LIBEXECDIR/stage1-host.aci. */
const char *stage1_default_path(void);

/* Stores the stage1 ACI at `path` in the tree store below `data_fd` (once:
 * keyed by its image ID) and returns the ID. */
int stage1_store_get(int data_fd, const char *path, char **ret_id, NpError *err);

/* Copies the stored stage1 `id` into the pod: the empty directory
 * `stage1_fd` (POD/stage1) gets manifest and rootfs/, the pod directory
 * `pod_fd` stage1TreeStoreID. */
int stage1_install(const char *data_dir, const char *id, int pod_fd, int stage1_fd, NpError *err);

typedef enum Stage1Entrypoint {
        STAGE1_RUN,
        STAGE1_ENTER,
        STAGE1_GC,
        STAGE1_STOP,
        _STAGE1_ENTRYPOINT_MAX,
} Stage1Entrypoint;

/* What a pod's POD/stage1/manifest says. */
typedef struct Stage1Info {
        char *name;                                  /* the image name */
        char *entrypoints[_STAGE1_ENTRYPOINT_MAX];   /* paths in the stage1 root; NULL: none */
} Stage1Info;

/* Reads it (a regular file, no symlink, size capped: nothing in a pod
 * directory is trusted). -ENOENT: the pod has none. */
int stage1_info_read(int pod_fd, Stage1Info *ret);
void stage1_info_done(Stage1Info *i);

/* The pod runs our stage1: the lifecycle verbs do its work in process
 * instead of executing entrypoints from the pod directory. */
bool stage1_info_is_ours(const Stage1Info *i);

/* Runs a pod's own stage1 entrypoint `e` as a stage0 does: a child with the
 * pod directory (`pod_fd`) as working directory, stdout and stderr ours,
 * `args` after the program's name; the program is looked up below the pod's
 * stage1/rootfs on file descriptors. Returns its exit status (128 + signal
 * when killed), -ENOENT when the stage1 has no such entrypoint (or its root
 * is gone, say after a reboot unmounted rkt's overlay), -EACCES when it is
 * not a regular file, other -errno. */
int stage1_run_entrypoint(int pod_fd, const Stage1Info *i, Stage1Entrypoint e, char *const *args);
