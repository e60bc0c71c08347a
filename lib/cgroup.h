/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Every pod gets cgroups of its own. systemd-nspawn --keep-unit creates its
 * "supervisor" and "payload" cgroups below the cgroup it starts in; started
 * from a shell on a host without systemd that would be the host's root
 * cgroup, shared by concurrent pods and left behind. So the run entrypoint
 * creates "<own cgroup>/<name>" in each hierarchy a process is placed in here
 * (the cgroup2 one, and the v1 name=systemd one on hybrid hosts) and moves
 * itself there before it execs nspawn.
 */

/* Creates and enters the pod's cgroups. `*ret_subcgroup` is the path of the
 * new cgroup relative to its hierarchy (the name=systemd one when present,
 * as rkt's `subcgroup` file holds), e.g. "/nspawn-pod-<uuid>". */
int cgroup_enter_pod(const char *name, char **ret_subcgroup);

/* Removes the pod's cgroups created by cgroup_enter_pod() from the caller's
 * cgroup (the same place), subtrees first. Processes still in them (a zombie
 * the host's init has not reaped yet) are killed and waited for, up to
 * `timeout_ms`. -ENOENT when there is nothing to remove. */
int cgroup_remove_pod(const char *name, unsigned timeout_ms);
