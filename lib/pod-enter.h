/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What entering an app needs before the enter helper joins anything
 * (docs/enter.md): finding the app's main process from the host, and
 * executing the helper from a sealed copy. `nspawn-pod enter` and the stage1
 * enter entrypoint (enter/, which rkt's stage0 executes with the pod's init
 * and an app name) share it.
 */

#include <stdint.h>
#include <sys/types.h>

/* The main process of the app `app` of the pod whose init (PID 1 of the
 * pod's PID namespace, as the host sees it) is `init_pid`: a pidfd of it and
 * its pid. The pod's systemd runs the app as <app>.service in system.slice
 * beside its own init.scope; every process of that cgroup (read through
 * /proc/<init>/cgroup and opened below the hierarchy's mount) is checked
 * through a pidfd to be a child of the init, in its PID namespace, whose
 * root is the app's root; the earliest started wins (an orphan of the app
 * reparented to the init came later). -ESRCH: no such process. */
int pod_app_main_process(pid_t init_pid, const char *app, int *ret_pidfd, pid_t *ret_pid);

/* Executes the program open at `fd` from a sealed in-memory copy with
 * `argv` and `envp`: while it runs in a pod, its /proc/<pid>/exe is that
 * copy, which nobody can write, not the host's file (runc CVE-2019-5736).
 * Returns only on failure, -errno. */
int pod_exec_sealed(int fd, char *const *argv, char *const *envp);

/* The program runs from such a sealed copy already. */
int pod_exec_is_sealed(void);
