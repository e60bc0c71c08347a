/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Resource limits that hold on every cgroup layout (docs/resources.md).
 *
 * The pod's systemd enforces an app's MemoryMax=, CPUQuota= and CPUWeight=
 * only where its cgroup2 hierarchy has the memory and cpu controllers: on a
 * unified host whose pod cgroup has them enabled. On a hybrid or legacy host
 * those controllers live in v1 hierarchies the pod's systemd cannot manage,
 * so the run does it: before nspawn starts it creates the pod's cgroup in
 * each v1 hierarchy it needs (`<own cgroup>/nspawn-pod-<uuid>`, the pod's
 * own limits written there, every process of the pod placed there) and one
 * per limited app below it (`…/<app>`, the app's limits), and binds each
 * app's cgroup.procs into the stage1 at /rkt/cgroup/<app>/<controller>.
 * prepare-app binds that file into the app's /dev, and app-stdio, the app's
 * first process, writes itself into it before it becomes the app: no
 * instruction of the app runs outside its limits. The app's
 * memory.oom_control is bound read-only beside it for the reaper, which
 * tells an OOM kill from another SIGKILL.
 *
 * A limit that no hierarchy of the host can enforce makes the run fail,
 * naming the limit: never a pod that looks limited and is not.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

typedef enum CgroupController {
        CGROUP_CTRL_MEMORY,
        CGROUP_CTRL_CPU,
        _CGROUP_CTRL_MAX,
} CgroupController;

#define CGROUP_CTRL_MASK(c) (1u << (c))

/* Where a controller is on this host. */
typedef enum CgroupPlace {
        CGROUP_PLACE_NONE,    /* nowhere: a limit that needs it cannot be enforced */
        CGROUP_PLACE_UNIFIED, /* listed in the caller's cgroup2 cgroup.controllers */
        CGROUP_PLACE_V1,      /* a cgroup v1 hierarchy of its own */
} CgroupPlace;

/* The limits of an app or of the whole pod, as resolved from isolators. */
typedef struct CgroupLimits {
        bool has_memory;
        uint64_t memory;     /* bytes */
        bool has_cpu_quota;
        uint64_t cpu_milli;  /* CPUs × 1000 */
        bool has_cpu_shares;
        uint64_t cpu_shares; /* v1 cpu.shares, 2..262144 */
        uint64_t cpu_weight; /* the same as cgroup2's cpu.weight, 1..10000 */
        /* An app of a pod with a memory limit of its own, where memory is in
         * v1: a memory cgroup of the app's own below the pod's, without a
         * limit of its own, so that an OOM kill under the pod's limit is
         * counted there (memory.oom_control) and the reaper can tell. */
        bool memory_accounted;
} CgroupLimits;

/* The controllers `l` needs (CGROUP_CTRL_MASK bits) for its limits. */
unsigned cgroup_limits_mask(const CgroupLimits *l);

/* The v1 controllers an app with `l` gets a cgroup of its own in: its
 * limits', and memory when memory_accounted. */
unsigned cgroup_limits_own_mask(const CgroupLimits *l);

/* "memory", "cpu". */
const char *cgroup_controller_to_string(CgroupController c);

/* Where each controller is, for the caller's own cgroups. */
int cgroup_places_detect(CgroupPlace ret[_CGROUP_CTRL_MAX]);

/* The controllers among `places` that are in v1 hierarchies (a mask). */
unsigned cgroup_places_v1_mask(const CgroupPlace places[_CGROUP_CTRL_MAX]);

/* What the run set up; cgroup_limits_release() closes its fds (the cgroups
 * themselves go with the pod's: lib/cgroup.h, cgroup_remove_pod()). */
typedef struct CgroupLimitsSetup {
        int procs[_CGROUP_CTRL_MAX]; /* the pod's v1 cgroup.procs, for the process that becomes
                                      * nspawn; -1 where none */
        CgroupLimits pod;            /* written by cgroup_limits_enter() on cgroup2 */
        bool pod_unified;            /* pod limits to write there */
} CgroupLimitsSetup;

#define CGROUP_LIMITS_SETUP_INIT { .procs = { -1, -1 } }

/*
 * Before nspawn: checks that every limit can be enforced (else fails with a
 * message naming the app, the limit and why), then creates the pod's v1
 * cgroups named `cgname` and the limited apps' below them, writes the
 * limits, gives each app's cgroup.procs to the app's user (`uids`, pod
 * order), and binds the apps' files below the stage1 root `s1`
 * (docs/resources.md). `apps`: the apps' names, `app_limits` their limits, in
 * pod order. On failure nothing is left: cgroups removed, binds undone.
 */
int cgroup_limits_setup(const char *cgname, const CgroupPlace places[_CGROUP_CTRL_MAX], const CgroupLimits *pod,
                        char *const *apps, const CgroupLimits *app_limits, const uid_t *uids, int s1,
                        CgroupLimitsSetup *ret, NpError *err);

/* In the process that becomes nspawn, after cgroup_enter_pod(): joins the
 * pod's v1 cgroups and writes the pod's own limits into its cgroup2 cgroup
 * (the one it is in now). */
int cgroup_limits_enter(const CgroupLimitsSetup *s);

void cgroup_limits_release(CgroupLimitsSetup *s);
