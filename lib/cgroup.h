/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/*
 * Every pod gets cgroups of its own. systemd-nspawn --keep-unit creates its
 * "supervisor" and "payload" cgroups below the cgroup it starts in; started
 * from a shell on a host without systemd that would be the host's root
 * cgroup, shared by concurrent pods and left behind. So the run entrypoint
 * creates "<own cgroup>/<name>" in each hierarchy a process is placed in here
 * (the cgroup2 one, and the v1 name=systemd one on hybrid hosts) and moves
 * itself there before it execs nspawn.
 */

/* Our own cgroup's path ("/a/b") in the cgroup2 hierarchy (`controller`
 * NULL) or in the v1 one whose controller list in /proc/self/cgroup holds
 * `controller` ("name=systemd", "memory", "cpu"). -ENOENT if there is none. */
int cgroup_own_path(const char *controller, char **ret);

/* Creates and enters the pod's cgroups. `*ret_subcgroup` is the path of the
 * new cgroup relative to its hierarchy (the name=systemd one when present,
 * as rkt's `subcgroup` file holds), e.g. "/nspawn-pod-<uuid>". */
int cgroup_enter_pod(const char *name, char **ret_subcgroup);

/* Removes the pod's cgroups created by cgroup_enter_pod() from the caller's
 * cgroup (the same place), subtrees first. Processes still in them (a zombie
 * the host's init has not reaped yet) are killed and waited for, up to
 * `timeout_ms`. -ENOENT when there is nothing to remove. Same as
 * cgroup_pod_remove() of that one name, but for the return value. */
int cgroup_remove_pod(const char *name, unsigned timeout_ms);

/*
 * Finding a pod's cgroups from anywhere (stop, gc, rm), not only from the
 * cgroup `run` was started in. A pod's cgroup is called one of its names
 * (pod_cgroup_names(): ours, and the machine scopes machined and rkt's own
 * stage1 make). In each hierarchy a pod is placed in (cgroup2, and
 * name=systemd on hybrid hosts) they are looked for at:
 *
 *   1. `subcgroup`, the path the pod directory's subcgroup file holds, when
 *      cgroup_pod_path_is_valid() accepts it (the file is in the pod
 *      directory: never trusted as it is, rkt's gc joined it to a path
 *      unchecked; docs/security.md);
 *   2. <the caller's own cgroup>/<name>;
 *   3. failing both, a directory called one of the names anywhere in the
 *      hierarchy (depth and count bounded; other pods' cgroups are not
 *      entered).
 *
 * Every path is opened below the hierarchy's mount point with openat2()
 * (RESOLVE_BENEATH, no symlinks, no other mounts).
 */

/* `path` is acceptable as the cgroup of the pod whose cgroup names are
 * `names`: absolute, at most 4095 bytes, '/'-separated non-empty components
 * other than "." and "..", each made of [A-Za-z0-9_.:@+,=-] and '\'
 * (systemd's escapes), the last one exactly one of `names`. */
bool cgroup_pod_path_is_valid(const char *path, char *const *names);

/* Kills every process in the pod's cgroups (cgroup.kill where the kernel has
 * it, else SIGKILL to each listed process after checking through a pidfd that
 * it is still in the pod). Returns the number of cgroups found, 0 if none. */
int cgroup_pod_kill(char *const *names, const char *subcgroup);

/* Kills what is left in the pod's cgroups and removes them, children first,
 * retrying while killed processes are reaped, up to `timeout_ms`. Returns 1
 * if cgroups were removed, 0 if there were none, -EBUSY if some could not be
 * removed in time (processes left), other -errno on failure. */
int cgroup_pod_remove(char *const *names, const char *subcgroup, unsigned timeout_ms);

/* 1 if the process `pid` is in a cgroup called one of `names` or below it in
 * any hierarchy (/proc/PID/cgroup), 0 if not, -errno (-ESRCH: no such
 * process). */
int cgroup_pid_in_pod(pid_t pid, char *const *names);
