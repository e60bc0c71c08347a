/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a running process runs with, read from its /proc/<pid> directory:
 * credentials, capability sets, no_new_privs, seccomp mode, umask, signal
 * dispositions, environment, resource limits and scheduling. `nspawn-pod
 * enter` reads an app's main process this way and gives the command it runs
 * the same (docs/enter.md).
 *
 * Every function takes a directory fd of /proc/<pid> (opened O_PATH or
 * O_RDONLY): once opened, it keeps naming that one process, so a pid reused
 * after the process died reads as ESRCH, never as somebody else's state.
 * The caller checks that the process was still alive after the reads (a
 * pidfd) when it matters.
 */

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "macro.h"

/* The fields of /proc/<pid>/status that matter here. */
typedef struct ProcStatus {
        uid_t uid[4]; /* real, effective, saved, file system */
        gid_t gid[4];
        gid_t *groups; /* supplementary groups, in the kernel's order */
        size_t n_groups;
        uint64_t cap_inh, cap_prm, cap_eff, cap_bnd, cap_amb;
        bool no_new_privs;
        int seccomp;       /* 0 none, 1 strict, 2 filter */
        unsigned seccomp_filters; /* Seccomp_filters: (kernel >= 5.9), 0 when absent */
        mode_t umask;      /* (mode_t) -1 when the kernel does not show it */
        uint64_t sig_blk, sig_ign, sig_cgt; /* signal masks, bit N-1 for signal N */
        pid_t ppid;
        pid_t ns_pid;      /* the pid in its own (innermost) pid namespace: last of NSpid */
        unsigned ns_depth; /* how many pid namespaces NSpid lists */
        int tracer_pid;
} ProcStatus;

/* Parses the text of a /proc/<pid>/status file. Every field listed in
 * ProcStatus but umask, Seccomp_filters and NSpid must be present (-EBADMSG
 * otherwise). `ret` is written only on success; free it with
 * proc_status_done(). */
int proc_status_parse(const char *text, size_t size, ProcStatus *ret);
int proc_status_read(int proc_fd, ProcStatus *ret);
void proc_status_done(ProcStatus *s);

/* The ids of `s` (read from the host, so the host's) as the process's own
 * user namespace sees them, through its uid_map and gid_map below
 * `proc_fd`: what a process that joins that namespace sets to become it.
 * -ERANGE if one of them has no id there; `s` is unchanged then. */
int proc_status_to_userns(int proc_fd, ProcStatus *s);

/* The host's uid for the process's user namespace's `uid` (its uid_map
 * below `proc_fd`): -ERANGE if it has none. */
int proc_uid_to_outside(int proc_fd, uint32_t uid, uint32_t *ret);

/* The host's uid of the process's root and how many uids its user namespace
 * maps (a pod's --private-users range): 0, or -ENOENT when its user
 * namespace maps the host's ids to themselves (the host's, or one alike). */
int proc_userns_range(int proc_fd, uint32_t *ret_shift, uint32_t *ret_range);

/* Reads a whole procfs file below `proc_fd` (procfs reports size 0, so no
 * fstat sizing), at most `max` bytes (-EFBIG beyond). NUL-terminated. */
int proc_read_file(int proc_fd, const char *name, size_t max, char **ret, size_t *ret_size);

/* The process's environment as its environ file shows it: a NULL-terminated
 * vector of the NUL-separated entries, byte for byte (no entry dropped, none
 * required to hold '='). */
int proc_environ_read(int proc_fd, char ***ret);

/* Start time (clock ticks since boot, field 22 of the stat file). */
int proc_start_time(int proc_fd, uint64_t *ret);

/* The namespace `name` ("mnt", "pid", …) of the process: its inode and
 * device, as stat() on the ns/ link shows them. */
int proc_ns_id(int proc_fd, const char *name, dev_t *ret_dev, ino_t *ret_ino);

/* What scheduling and resource settings a process runs with. The limits and
 * oom_score_adj are read from its /proc directory, the rest with system calls
 * taking the pid (getpriority, sched_getscheduler, ioprio_get,
 * sched_getaffinity): the caller must make sure the pid still names the
 * process it means (a pidfd checked after). */
typedef struct ProcLimits {
        struct rlimit rlimits[RLIM_NLIMITS];
        int nice;
        int sched_policy; /* with SCHED_RESET_ON_FORK when set */
        int sched_priority;
        int ioprio;
        int oom_score_adj;
        void *cpu_set; /* cpu_set_t of cpu_set_size bytes */
        size_t cpu_set_size;
} ProcLimits;

int proc_limits_read(pid_t pid, int proc_fd, ProcLimits *ret);
/* Applies them to the calling process. Needs privileges to raise limits or
 * lower the nice value and oom_score_adj: call it before dropping them.
 * `proc_self_fd` is the caller's own /proc/self (opened before any mount
 * namespace change). */
int proc_limits_apply(const ProcLimits *l, int proc_self_fd);
void proc_limits_done(ProcLimits *l);

/* pidfd_open(2) and pidfd_send_signal(2), which glibc 2.36 has no wrappers
 * for. -1 with errno set on failure, as the system calls. */
int proc_pidfd_open(pid_t pid);
int proc_pidfd_send_signal(int pidfd, int sig);

/* CLOCK_MONOTONIC in microseconds: deadlines and waits. */
uint64_t now_usec(void);
