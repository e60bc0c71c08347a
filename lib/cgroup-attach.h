/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Putting a process into the cgroups another process is in, in every
 * hierarchy that process belongs to (cgroup2 and each v1 hierarchy of a
 * hybrid host): `nspawn-pod enter` opens them on the host before it joins the
 * pod's namespaces, and the command's process moves itself in first thing,
 * so that the command is accounted, limited and killed with the app (rkt's
 * enter left it in the caller's cgroup, CVE-2019-10147).
 */

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* One line of /proc/<pid>/cgroup: "ID:CONTROLLERS:PATH". */
typedef struct CgroupMembership {
        unsigned id;       /* hierarchy id; 0 for cgroup2 */
        char *controllers; /* "" (cgroup2), "name=systemd", "cpu,cpuacct", … */
        char *path;        /* absolute, relative to the reader's cgroup namespace */
} CgroupMembership;

/* Parses the text of a /proc/<pid>/cgroup file. */
int cgroup_membership_parse(const char *text, size_t size, CgroupMembership **ret, size_t *ret_n);
void cgroup_membership_free(CgroupMembership *m, size_t n);

/* Opens the root of the hierarchy `controllers` names (as in
 * /proc/<pid>/cgroup: "" is cgroup2) where it is mounted in our mount
 * namespace with its root at "/" (O_PATH|O_DIRECTORY). -ENOMEDIUM when it is
 * not mounted. */
int cgroup_hierarchy_open(const char *controllers, int *ret_fd);

/* Opens `path` (absolute, as /proc/<pid>/cgroup shows it) below a hierarchy
 * root fd: no symlinks, no "..", no other mount. */
int cgroup_path_open(int hierarchy_fd, const char *path, int flags);

/* Opens, for writing, the cgroup.procs file of every cgroup the process of
 * `proc_fd` (/proc/<pid>) is in, one per hierarchy. Writing "0" to each
 * (cgroup_attach_fds()) then moves the writer there, even from inside other
 * namespaces and with fewer privileges: the kernel checks the credentials
 * and cgroup namespace the files were opened with. A hierarchy the caller
 * cannot see (not mounted here) is skipped if the caller is already at the
 * same path in it (-ENOMEDIUM otherwise). */
int cgroup_attach_open(int proc_fd, int proc_self_fd, int **ret_fds, size_t *ret_n);
int cgroup_attach_fds(const int *fds, size_t n);
