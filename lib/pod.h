/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The on-disk pod layout, rkt's (docs/stage1.md): pods live in
 * <data dir>/pods/<state>/<uuid>, and a pod's state is the directory it is in
 * plus whether its directory fd is flock()ed, never a file a crash could
 * leave stale. A running pod holds an exclusive lock on its directory for its
 * whole life (the fd is inherited by systemd-nspawn).
 */

#include <stdint.h>

#include "error.h"
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

/* A pod directory being created: prepare/.new-<uuid>, until it is locked. */
#define POD_NEW_PREFIX ".new-"

/* Creates pods/prepare/<new uuid>, locks it exclusively and returns the
 * locked directory fd (O_RDONLY|O_DIRECTORY, CLOEXEC) and the uuid. */
int pod_create(int pods_fd, uint8_t ret_uuid[16], int *ret_lock_fd);

/* Moves pods/<from>/<uuid> to pods/<to>/<uuid> (rename, same file system). */
int pod_move(int pods_fd, const uint8_t uuid[16], PodState from, PodState to);

/* Opens pods/<state>/<uuid> (O_RDONLY|O_DIRECTORY|O_NOFOLLOW). */
int pod_open(int pods_fd, const uint8_t uuid[16], PodState state, int *ret_fd);

/* Takes an exclusive non-blocking lock: -EWOULDBLOCK if someone holds it. */
int pod_lock(int dir_fd);

/* ---- the pod lifecycle: enumeration, references, derived state ------------
 *
 * docs/lifecycle.md describes these as the user sees them. */

#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

/* What a pod is, derived from the directory it is in and whether its
 * directory is locked (docs/lifecycle.md). */
typedef enum PodStatus {
        POD_STATUS_PREPARING,       /* prepare/, locked */
        POD_STATUS_ABORTED_PREPARE, /* prepare/, unlocked: its preparation died; garbage */
        POD_STATUS_PREPARED,        /* prepared/ (locked only while run-prepared takes it) */
        POD_STATUS_RUNNING,         /* run/, locked by the run process and nspawn */
        POD_STATUS_EXITED,          /* run/, unlocked */
        POD_STATUS_EXITED_GARBAGE,  /* exited-garbage/, unlocked: marked for removal */
        POD_STATUS_GARBAGE,         /* garbage/, unlocked: failed or removed prepared pod */
        POD_STATUS_DELETING,        /* exited-garbage/ or garbage/, locked: being removed */
        _POD_STATUS_MAX,
} PodStatus;

/* "preparing", "aborted-prepare", "prepared", "running", "exited",
 * "exited-garbage", "garbage", "deleting". */
const char *pod_status_to_string(PodStatus s);
PodStatus pod_status_of(PodState dir, bool locked);

/* 1 if someone holds a lock on the pod directory `dir_fd`, 0 if not. Probes
 * with a non-blocking *shared* flock on a new open file description of the
 * directory (never on `dir_fd` itself, whose own lock a probe would convert),
 * dropped at once. A probe that races an exclusive locker can make that one
 * fail with EWOULDBLOCK: every locker in nspawn-pod treats that as "busy". */
int pod_is_locked(int dir_fd);

/* Shortest UUID prefix accepted where a pod is named (docs/lifecycle.md). */
#define POD_REF_PREFIX_MIN 4

/* Checks a pod reference: a UUID or a prefix of one, with dashes where the
 * canonical form has them or without any, hex digits in either case, at
 * least POD_REF_PREFIX_MIN of them. Writes the lower-case form, dashes
 * dropped (at most 32 hex digits), to `ret_hex`. -EINVAL if it is none. */
int pod_ref_parse(const char *ref, char ret_hex[static 33]);

typedef struct PodEntry {
        uint8_t uuid[16];
        PodState state; /* the directory it was found in */
} PodEntry;

/* Every pod in every state directory. The directories are read in
 * lifecycle order (prepare, prepared, run, exited-garbage, garbage), so that a
 * pod moving on while they are read is seen twice rather than never; the
 * later sighting wins. Entries that are not UUIDs are ignored. Sorted by UUID. */
int pod_list(int pods_fd, PodEntry **ret, size_t *ret_n);

/* The pods whose UUID starts with `hex` (as pod_ref_parse() gives it), sorted
 * by UUID. *ret_n == 0: no such pod; > 1: ambiguous. */
int pod_find(int pods_fd, const char *hex, PodEntry **ret, size_t *ret_n);

/* Opens pods/<state>/<uuid> in whichever state directory the pod is now,
 * (O_RDONLY|O_DIRECTORY|O_NOFOLLOW), trying again if it moved meanwhile.
 * -ENOENT if it is nowhere. */
int pod_open_any(int pods_fd, const uint8_t uuid[16], PodState *ret_state, int *ret_fd);

/* An app of a pod and what its status files say (docs/helpers.md). */
typedef struct PodApp {
        char *name;
        int status; /* /rkt/status/<app>: 0..255, or -1 when absent or unreadable */
        char *end;  /* first line of /rkt/status/<app>.end, printable ASCII only
                     * (anything else shown as '?'), or NULL when absent */
} PodApp;

typedef struct PodInfo {
        uint8_t uuid[16];
        PodState state;
        PodStatus status;
        /* tv_sec == 0: unknown. created: mtime of pod-created; started:
         * mtime of ppid; exited: mtime of exit-code (written by the run
         * process when nspawn ended), else the newest status file's, else
         * unknown (the run process and nspawn were both killed). A stage1 writes
         * pid or ppid: started is the mtime of whichever there is. */
        struct timespec created, started, exited;
        pid_t pid;     /* while running: the pid file's (rkt's fly), else the ppid file's
                        * (nspawn's); else 0 */
        int exit_code; /* exit-code: the pod's exit code; -1 when not recorded */
        PodApp *apps;  /* the manifest's apps, in order (none when it is unreadable) */
        size_t n_apps;
        /* A running pod's CNI networks, in order (lib/pod-net.h) */
        struct PodNetInfo *networks;
        size_t n_networks;
} PodInfo;

/* rkt's "networks=" value: "NAME:ip4=A.B.C.D" (or ip6=) per address, joined
 * by ','; NULL when there are none. */
char *pod_info_networks_text(const PodInfo *info);

typedef enum PodInfoFlags {
        POD_INFO_APP_STATUS = 1 << 0, /* also read every app's status files */
} PodInfoFlags;

/* Reads what is known about the pod whose directory is `dir_fd`, found in
 * `state`. Every file is read below `dir_fd` on file descriptors, symlinks
 * refused, sizes capped and contents checked: nothing in a pod directory is
 * trusted. Missing or malformed files leave their fields unknown. */
int pod_info_read(int dir_fd, const uint8_t uuid[16], PodState state, PodInfoFlags flags, PodInfo **ret);
PodInfo *pod_info_free(PodInfo *info);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodInfo *, pod_info_free);

/* Reads the decimal pid in the pod's pid file or, where it has none, in its
 * ppid file (stage1s write one or the other, rkt's contract: fly writes
 * pid, the process to enter; nspawn flavors ppid, nspawn's): > 0, or -errno
 * (-ENOENT: neither, -EINVAL: malformed). `ret_is_ppid` says which. */
int pod_read_pid_file(int dir_fd, pid_t *ret, bool *ret_is_ppid);
/* The ppid file only (nspawn's pid): -ENOENT if the pod has none. */
int pod_read_pid(int dir_fd, pid_t *ret);

/* The pod's systemd-nspawn, as its ppid file names it, pinned: the pid is
 * opened as a pidfd first, then checked to be in one of the pod's cgroups
 * (pod_cgroup_names()), then checked through the pidfd to be still alive,
 * so that what /proc said was about this very process and not whoever got
 * a recycled pid. -ESRCH: no valid ppid file, or nspawn is gone; -EPERM:
 * the pid is not in the pod's cgroups. */
int pod_pin_nspawn(int dir_fd, const uint8_t uuid[16], int *ret_pidfd, pid_t *ret_pid);

/* Reads the pod's subcgroup file, checked with cgroup_pod_path_is_valid()
 * against pod_cgroup_names() (lib/cgroup.h). -ENOENT: none; -EINVAL: not a
 * path we accept. */
int pod_read_subcgroup(int dir_fd, const uint8_t uuid[16], char **ret);

/* "nspawn-pod-<uuid>": the name of the cgroups the run process makes for
 * the pod (and its machine name under the nspawn-pod command). */
char *pod_cgroup_name(const uint8_t uuid[16], char buf[static 49]);

/* Every name a pod's cgroup may have: pod_cgroup_name(); the machine scope
 * machined makes when the pod is registered, under either machine name
 * ("machine-nspawn\x2dpod\x2d<uuid>.scope", "machine-rkt\x2d<uuid>.scope",
 * dashes escaped); rkt's own host flavor uses the latter too. NULL on OOM. */
char **pod_cgroup_names(const uint8_t uuid[16]);

/* Reads the pod manifest (the pod's "pod" file, at most MANIFEST_SIZE_MAX
 * bytes, a regular file, no symlink). -ENOENT when there is none. */
int pod_read_manifest(int dir_fd, char **ret, size_t *ret_size);

/* A stage1 entrypoint's pod directory: its working directory, which a
 * stage0 sets to the pod's (POD = <pods>/<state>/<uuid>). Checked to be
 * named for `uuid` and to be what its parent holds under that name (not a
 * directory that was moved or replaced). Returns the path, an open
 * descriptor and one of its parent (O_PATH); each may be NULL. -EINVAL
 * (with `err` set) when it is not the pod's. */
int pod_open_cwd(const uint8_t uuid[16], char **ret_path, int *ret_fd, int *ret_parent_fd, NpError *err);
