/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The on-disk pod layout, rkt's (stage1-contract §1): pods live in
 * <data dir>/pods/<state>/<uuid>, and a pod's state is the directory it is in
 * plus whether its directory fd is flock()ed, never a file a crash could
 * leave stale. A running pod holds an exclusive lock on its directory for its
 * whole life (the fd is inherited by systemd-nspawn).
 */

#include <stdint.h>

#include "macro.h"

#define POD_DATA_DIR_DEFAULT "/var/lib/nspawn-pod"

typedef enum PodState {
        POD_STATE_PREPARE,        /* locked: being prepared; unlocked: preparation failed */
        POD_STATE_PREPARED,       /* ready for run-prepared */
        POD_STATE_RUN,            /* locked: running; unlocked: exited */
        POD_STATE_EXITED_GARBAGE, /* exited, marked for removal */
        POD_STATE_GARBAGE,        /* failed preparation, marked for removal */
        _POD_STATE_MAX,
} PodState;

const char *pod_state_dir(PodState s); /* "prepare", "prepared", "run", … */

/* Opens <data_dir>/pods (creating it and the state directories, 0700) and
 * returns an O_PATH directory fd. */
int pod_open_pods_dir(const char *data_dir, int *ret_fd);

/* Creates pods/prepare/<new uuid>, locks it exclusively and returns the
 * locked directory fd (O_RDONLY|O_DIRECTORY, CLOEXEC) and the uuid. */
int pod_create(int pods_fd, uint8_t ret_uuid[16], int *ret_lock_fd);

/* Moves pods/<from>/<uuid> to pods/<to>/<uuid> (rename, same file system). */
int pod_move(int pods_fd, const uint8_t uuid[16], PodState from, PodState to);

/* Opens pods/<state>/<uuid> (O_RDONLY|O_DIRECTORY|O_NOFOLLOW). */
int pod_open(int pods_fd, const uint8_t uuid[16], PodState state, int *ret_fd);

/* Takes an exclusive non-blocking lock: -EWOULDBLOCK if someone holds it. */
int pod_lock(int dir_fd);
